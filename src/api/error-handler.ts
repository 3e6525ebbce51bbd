import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, apiError, telnyxError } from '../errors/api-error.ts';
import { errorBody, errorForStatus } from './http-errors.ts';

/** Fastify's own request errors, mapped to Telnyx codes; any other 4xx of Fastify by its status. */
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
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return errorForStatus(err.statusCode);
      }
      return null;
  }
}

/**
 * Fastify's `frameworkErrors` option: errors raised while routing (bad percent-encoding, a path
 * parameter over the length limit), before any hook has run.
 */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const known = fromFastifyError(err) ?? errorForStatus(400);
  request.log.debug({ code: err.code }, 'request refused while routing');
  return reply
    .code(known.status)
    .header('x-request-id', request.id)
    .send(errorBody(known, String(request.id)));
}

export function installErrorHandler(app: FastifyInstance, allowedMethods: (path: string) => string[]): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // The client went away mid-request (closed the connection, or was cut off as too slow): nothing
    // is wrong here, and there is no one left to answer.
    if (err.code === 'ECONNRESET' || (err.message === 'aborted' && request.raw.socket?.destroyed)) {
      request.log.debug({ url: request.url, method: request.method, reason: err.message }, 'request aborted');
      return reply.code(400).send();
    }
    const known = err instanceof ApiError ? err : fromFastifyError(err);
    const requestId = String(request.id);
    if (known) return reply.code(known.status).send(errorBody(known, requestId));
    request.log.error({ err, url: request.url, method: request.method }, 'unexpected error');
    return reply.code(500).send(errorBody(new ApiError(500, [telnyxError('10007')]), requestId));
  });

  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(request.url.split('?')[0]!);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(errorBody(errorForStatus(405), request.id));
    }
    return reply.code(404).send(errorBody(errorForStatus(404), request.id));
  });
}
