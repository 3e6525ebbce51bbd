import type { FastifyRequest } from 'fastify';
import { apiError } from '../errors/api-error.ts';
import type { Authenticator } from '../tenants/api-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    organizationId: string;
  }
}

/** Bearer API key → the caller's organization, or 401 with Telnyx code 10009. */
export function bearerAuth(auth: Authenticator) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const organizationId = match ? await auth.authenticate(match[1]!) : null;
    if (!organizationId) throw apiError('10009');
    request.organizationId = organizationId;
  };
}
