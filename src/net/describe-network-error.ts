import { findOutboundBlocked } from './outbound-guard.ts';

/**
 * What a tenant may learn about a failed outbound connection: the kind of failure, never an address,
 * a port or a resolved name of the operator's network. The full error goes to the operator's log
 * (`describeNetworkErrorForOperator`).
 */
export function describeNetworkErrorForTenant(err: unknown): string {
  if (findOutboundBlocked(err)) return 'destination not allowed';
  const code = errorCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'host not found';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'no response headers in time';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'response body stalled';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    default:
      // Codes are fixed identifiers (CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID...); messages
      // may carry addresses, so they are not passed on.
      return code && /^[A-Z0-9_]+$/.test(code) ? `network error (${code})` : 'network error';
  }
}

/** The whole error, causes included, for the operator's log. */
export function describeNetworkErrorForOperator(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err);
  const cause = err.cause instanceof Error ? ` (${describeNetworkErrorForOperator(err.cause)})` : '';
  return `${code ? `${code}: ` : ''}${err.message}${cause}`;
}

function errorCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR' && !code.startsWith('ERR_OUTBOUND')) {
      // undici wraps socket errors; the cause's code says more (ECONNREFUSED rather than a generic one).
      const inner = (e as { cause?: { code?: unknown } }).cause?.code;
      return typeof inner === 'string' ? inner : code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}
