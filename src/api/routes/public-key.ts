import type { FastifyInstance } from 'fastify';
import { publishedSigningKeys } from '../../webhooks/organization-signing-keys.ts';
import type { ApiContext } from '../context.ts';

/**
 * `GET /v2/public_key`: the caller's organization's webhook signing key, in Telnyx's shape
 * `{"data":{"public_key":"…"}}`, plus our extension `public_keys`: every key a receiver should
 * accept right now (during a rotation, the current one and the next). Needs the API key: keys are
 * per organization, so an unauthenticated call gets 401 like every other route.
 */
export function publicKeyRoutes(app: FastifyInstance, ctx: Pick<ApiContext, 'store'>): void {
  app.get('/v2/public_key', async (request) => ({
    data: await publishedSigningKeys(ctx.store, request.organizationId),
  }));
}
