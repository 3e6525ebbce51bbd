import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, type TelnyxErrorObject, telnyxError } from '../errors/api-error.ts';
import type { ErrorCode } from '../errors/catalogue.ts';

/**
 * HTTP-level refusals (from Fastify or from Node's HTTP parser) as Telnyx errors: the code of the
 * catalogue that fits the status, and a detail of our own. Never the framework's message, which
 * echoes the path or the headers back.
 */
const BY_STATUS: Record<number, { code: ErrorCode; detail: string }> = {
  400: { code: '10015', detail: 'The request failed because it was not well-formed.' },
  404: { code: '10005', detail: 'The requested resource or URL could not be found.' },
  405: { code: '10030', detail: 'The URL is valid, but the method is not allowed.' },
  408: { code: '10008', detail: 'The request was not received in time.' },
  413: { code: '10033', detail: 'The request body is larger than the limit.' },
  414: { code: '10003', detail: 'The request URL is too long.' },
  415: { code: '10029', detail: "Must encode request as 'application/json'" },
  431: { code: '10015', detail: 'The request headers are too large.' },
};

/** The Telnyx answer for an HTTP status (4xx); any status without an entry of its own is 10015. */
export function errorForStatus(status: number, detail?: string): ApiError {
  const known = BY_STATUS[status] ?? BY_STATUS[400]!;
  return new ApiError(status, [telnyxError(known.code, { detail: detail ?? known.detail })]);
}

/** `{ errors: [...] }` with the request id in every error's meta. */
export function errorBody(err: ApiError, requestId: string): { errors: TelnyxErrorObject[] } {
  return { errors: err.errors.map((e) => ({ ...e, meta: { ...e.meta, request_id: requestId } })) };
}

/** What Node's HTTP parser refused, by its error code. */
function clientErrorStatus(code: string | undefined): number {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_INVALID_METHOD':
      return 405;
    default:
      return 400;
  }
}

/**
 * The server's `clientError` handler: a request Node's parser refused (headers too large, bad
 * framing such as Content-Length with Transfer-Encoding, an unknown method, a header timeout) never
 * reached Fastify, so it is answered here, on the raw socket, in Telnyx's shape, and the connection
 * is closed.
 */
export function answerClientError(
  err: Error & { code?: string },
  socket: Duplex,
  log: { debug(obj: object, msg: string): void },
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = clientErrorStatus(err.code);
  const requestId = randomUUID();
  log.debug({ code: err.code, status, requestId }, 'request refused by the HTTP parser');
  const body = JSON.stringify(errorBody(errorForStatus(status), requestId));
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${requestId}\r\n` +
        `connection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  } else {
    socket.destroy();
  }
}
