import type { FastifyInstance } from 'fastify';
import { optOutListQuerySchema } from '../../optouts/optout-schema.ts';
import { renderOptOut } from '../../optouts/render.ts';
import { isUuid } from '../../validation/ids.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';
import { pageMeta } from '../pagination.ts';
import { nestQuery } from '../query.ts';

const storedTime = (value: string | undefined) =>
  value === undefined ? undefined : new Date(value).toISOString();

/** Telnyx's `GET /v2/messaging_optouts`: the organization's block rules, newest first. */
export function optOutRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v2/messaging_optouts', async (request) => {
    const query = parseWithTelnyxErrors(optOutListQuerySchema, nestQuery(request.query));
    const { filter = {}, page } = query;
    // Profile ids are UUIDs: any other value names no profile (and is never sent to the database).
    if (filter.messaging_profile_id !== undefined && !isUuid(filter.messaging_profile_id)) {
      return { data: [], meta: pageMeta(page, 0) };
    }
    const { items, total } = await ctx.store.optOuts.list(
      request.organizationId,
      {
        messagingProfileId: filter.messaging_profile_id,
        from: filter.from,
        createdGte: storedTime(query.created_at?.gte),
        createdLte: storedTime(query.created_at?.lte),
      },
      page,
    );
    const redacted = query.redaction_enabled === 'true';
    return { data: items.map((r) => renderOptOut(r, redacted)), meta: pageMeta(page, total) };
  });
}
