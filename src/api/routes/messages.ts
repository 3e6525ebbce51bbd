import type { FastifyInstance } from 'fastify';
import { chaosFaultsOf } from '../../chaos/render-faults.ts';
import { apiError } from '../../errors/api-error.ts';
import { groupMmsRequestSchema } from '../../messages/group-mms-schema.ts';
import { sendGroupMms } from '../../messages/idempotent-send.ts';
import { renderGroupMessage, renderRecipientMessage } from '../../messages/render.ts';
import { renderInboundMessage } from '../../messages/render-inbound.ts';
import { acceptedMessages } from '../../metrics/metrics.ts';
import { isUuid } from '../../validation/ids.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';
export function messageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v2/messages/group_mms', async (request, reply) => {
    const body = parseWithTelnyxErrors(groupMmsRequestSchema, request.body);
    const full = await ctx.queueCap?.refusal(request.organizationId);
    if (full) {
      reply.header('retry-after', String(Math.ceil(full.retryAfterMs / 1000)));
      throw apiError('40318');
    }
    const key = request.headers['idempotency-key'];
    const idempotency = key === undefined ? undefined : { key: String(key), body: request.body };
    const sent = await sendGroupMms(ctx.send, request.organizationId, body, idempotency);
    if (sent.replayed) reply.header('idempotent-replayed', 'true');
    else acceptedMessages.inc();
    return { data: sent.response };
  });

  app.get<{ Params: { id: string } }>('/v2/messages/:id', async (request) => {
    const { id } = request.params;
    if (!isUuid(id)) throw apiError('10005');
    const group = await ctx.store.messages.getForOrganization(request.organizationId, id);
    if (group?.message.direction === 'inbound') {
      return { data: renderInboundMessage(group.message, group.recipients) };
    }
    // `chaos`: the faults chaos mode injected (a sandbox extension; absent when there were none).
    if (group) {
      const chaos = await chaosFaultsOf(ctx.store, group.message.id);
      return {
        data: { ...renderGroupMessage(group.message, group.recipients, ctx.rates), ...(chaos && { chaos }) },
      };
    }
    const one = await ctx.store.messages.getRecipientForOrganization(request.organizationId, id);
    if (one?.message.direction === 'inbound') {
      return { data: renderInboundMessage(one.message, [one.recipient]) };
    }
    if (one) {
      const chaos = await chaosFaultsOf(ctx.store, one.message.id, one.recipient.id);
      return { data: { ...renderRecipientMessage(one.message, one.recipient), ...(chaos && { chaos }) } };
    }
    throw apiError('10005');
  });

  app.get<{ Params: { id: string } }>('/v2/messages/group/:id', async (request) => {
    const { id } = request.params;
    const group = isUuid(id)
      ? await ctx.store.messages.getForOrganization(request.organizationId, id)
      : undefined;
    if (!group) throw apiError('10005');
    return { data: group.recipients.map((r) => renderRecipientMessage(group.message, r)) };
  });

  /** Every webhook event of a message (group id or recipient id) with each delivery attempt. */
  app.get<{ Params: { id: string } }>('/v2/messages/:id/webhook_deliveries', async (request) => {
    const { id } = request.params;
    if (!isUuid(id)) throw apiError('10005');
    const group = await ctx.store.messages.getForOrganization(request.organizationId, id);
    const one = group
      ? undefined
      : await ctx.store.messages.getRecipientForOrganization(request.organizationId, id);
    const messageId = group?.message.id ?? one?.message.id;
    const connector = group?.message.connector ?? one?.message.connector ?? null;
    if (!messageId) throw apiError('10005');
    // Events first, then attempts: an event read as finished had its attempts committed with it, so
    // they are found. Read in parallel, a commit landing between the two reads could show a
    // delivered event without its attempts.
    const events = await ctx.store.webhooks.listEventsForMessage(messageId);
    const attempts = await ctx.store.webhooks.listAttemptsForMessage(messageId);
    return {
      data: events
        .filter((e) => !one || e.recipient_id === one.recipient.id)
        .map((e) => ({
          record_type: 'webhook_delivery',
          id: e.id,
          event_type: e.event_type,
          message_id: e.recipient_id,
          group_message_id: e.message_id,
          // Extension field: the connector that took the message.
          connector,
          status: e.status,
          delivered_to: e.delivered_to,
          occurred_at: e.occurred_at,
          finished_at: e.completed_at,
          next_attempt_at: e.status === 'pending' ? (e.next_attempt_at ?? null) : null,
          urls: e.urls,
          attempts: attempts.filter((a) => a.event_id === e.id).map(({ event_id: _e, id: _i, ...a }) => a),
        })),
    };
  });
}
