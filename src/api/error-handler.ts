import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, apiError, type TelnyxErrorObject, telnyxError } from '../errors/api-error.ts';

/** Fastify's own request errors, mapped to Telnyx codes. */
function fromFastifyError(err: FastifyError): ApiError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return apiError('10023');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return apiError('10015', { detail: 'The request body must be a JSON object.' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return apiError('10029');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return apiError('10033');
    default:
      if (err instanceof SyntaxError) return apiError('10023');
      return null;
  }
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // The client went away mid-request (closed the connection, or was cut off as too slow): nothing
    // is wrong here, and there is no one left to answer.
    if (err.code === 'ECONNRESET' || (err.message === 'aborted' && request.raw.socket?.destroyed)) {
      request.log.debug({ url: request.url, method: request.method, reason: err.message }, 'request aborted');
      return reply.code(400).send();
    }
    const known = err instanceof ApiError ? err : fromFastifyError(err);
    const requestId = String(request.id);
    if (known) {
      const errors = known.errors.map((e) => ({ ...e, meta: { ...e.meta, request_id: requestId } }));
      return reply.code(known.status).send({ errors });
    }
    request.log.error({ err, url: request.url, method: request.method }, 'unexpected error');
    const opaque: TelnyxErrorObject = { ...telnyxError('10007'), meta: { request_id: requestId } };
    return reply.code(500).send({ errors: [opaque] });
  });

  app.setNotFoundHandler((request, reply) => {
    const e = telnyxError('10005', { detail: `No route ${request.method} ${request.url.split('?')[0]}.` });
    return reply.code(404).send({ errors: [{ ...e, meta: { request_id: String(request.id) } }] });
  });
}
