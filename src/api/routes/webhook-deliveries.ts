import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/api-error.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import { webhookDeliveryListQuerySchema } from '../../webhooks/delivery-schema.ts';
import { renderWebhookDelivery } from '../../webhooks/render-delivery.ts';
import type { ApiContext } from '../context.ts';
import { pageMeta } from '../pagination.ts';
import { nestQuery } from '../query.ts';
import { UUID } from '../uuid.ts';

/** Telnyx's webhook deliveries API over the gateway's webhook events and their attempts. */
export function webhookDeliveryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { webhooks } = ctx.store;

  app.get('/v2/webhook_deliveries', async (request) => {
    const { filter = {}, page } = parseWithTelnyxErrors(
      webhookDeliveryListQuerySchema,
      nestQuery(request.query),
    );
    const { items, total } = await webhooks.listForOrganization(
      request.organizationId,
      {
        status: filter.status?.eq,
        eventTypes: filter.event_type
          ?.split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        webhookContains: filter.webhook?.contains,
        attemptsContains: filter.attempts?.contains,
        startedGte: filter.started_at?.gte,
        startedLte: filter.started_at?.lte,
        finishedGte: filter.finished_at?.gte,
        finishedLte: filter.finished_at?.lte,
      },
      page,
    );
    const attempts = await webhooks.listAttemptsForEvents(items.map((e) => e.id));
    return { data: items.map((e) => renderWebhookDelivery(e, attempts)), meta: pageMeta(page, total) };
  });

  app.get<{ Params: { id: string } }>('/v2/webhook_deliveries/:id', async (request) => {
    const { id } = request.params;
    const event = UUID.test(id)
      ? await webhooks.getEventForOrganization(request.organizationId, id)
      : undefined;
    if (!event) throw apiError('10005');
    return { data: renderWebhookDelivery(event, await webhooks.listAttemptsForEvents([event.id])) };
  });
}
