import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../errors/api-error.ts';
import type { Authenticator } from '../tenants/api-keys.ts';
import type { RateLimiter } from '../tenants/rate-limiter.ts';
import type { FailedAuthLimiter } from './failed-auth-limiter.ts';

declare module 'fastify' {
  interface FastifyRequest {
    organizationId: string;
    apiKeyId: string;
  }
}

export interface AuthGuards {
  auth: Authenticator;
  failedAuth: FailedAuthLimiter;
  rateLimiter: RateLimiter;
}

/** 429 with Telnyx code 10011 and `Retry-After` in whole seconds. */
function tooManyRequests(reply: FastifyReply, retryAfterMs: number) {
  reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return apiError('10011');
}

/**
 * Bearer API key → the caller's organization, or 401 with Telnyx code 10009. An address with too
 * many failures is refused (429) before its key is looked at; failures are counted and logged,
 * never with the presented key. Authenticated requests then pass the shared rate limits.
 */
export function bearerAuth(guards: AuthGuards) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const now = Date.now();
    const blockedMs = guards.failedAuth.retryAfterMs(request.ip, now);
    if (blockedMs > 0) throw tooManyRequests(reply, blockedMs);

    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const key = match ? await guards.auth.authenticate(match[1]!) : null;
    if (!key) {
      const failures = guards.failedAuth.recordFailure(request.ip, now);
      const fields = {
        ip: request.ip,
        failures_this_minute: failures,
        failures_total: guards.failedAuth.total(),
        credential: match ? 'unknown or revoked key' : header ? 'malformed Authorization header' : 'none',
      };
      // The first failure of an address in a window is a warning; the rest are counted quietly.
      if (failures === 1) request.log.warn(fields, 'authentication failed');
      else request.log.debug(fields, 'authentication failed');
      throw apiError('10009');
    }
    request.organizationId = key.organizationId;
    request.apiKeyId = key.keyId;

    const limit = await guards.rateLimiter.check(key, now);
    if (!limit.allowed) throw tooManyRequests(reply, limit.retryAfterMs);
  };
}
