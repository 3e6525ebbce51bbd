import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/api-error.ts';
import { messageListQuerySchema } from '../../messages/message-schema.ts';
import { renderGroupMessage } from '../../messages/render.ts';
import { renderInboundMessage } from '../../messages/render-inbound.ts';
import type { ListCursor } from '../../store/records.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';
import { nestQuery } from '../query.ts';

export const encodeCursor = (c: ListCursor) => Buffer.from(`${c.received_at}|${c.id}`).toString('base64url');

export function decodeCursor(value: string): ListCursor {
  const [received_at, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (!received_at || !id || rest.length > 0 || Number.isNaN(Date.parse(received_at))) {
    throw apiError('10015', {
      parameter: 'page[after]',
      detail: 'page[after] must be a next_page_after value.',
    });
  }
  return { received_at, id };
}

/** Extension: `GET /v2/messages`, the organization's messages newest first, keyset-paged. */
export function messageListRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v2/messages', async (request) => {
    const { filter = {}, page } = parseWithTelnyxErrors(messageListQuerySchema, nestQuery(request.query));
    const rows = await ctx.store.messages.listForOrganization(
      request.organizationId,
      {
        direction: filter.direction,
        status: filter.status,
        from: filter.from,
        to: filter.to,
        receivedGte: filter.received_at?.gte,
        receivedLte: filter.received_at?.lte,
        search: filter.text?.contains,
      },
      page.size + 1,
      page.after ? decodeCursor(page.after) : undefined,
    );
    const items = rows.slice(0, page.size);
    const last = items.at(-1);
    return {
      // Extension field: the connector that took the message (null while none has).
      data: items.map((r) => ({
        // An inbound message reads as GET /v2/messages/{id} shows it (with its cc).
        ...(r.message.direction === 'inbound'
          ? renderInboundMessage(r.message, r.recipients)
          : renderGroupMessage(r.message, r.recipients, ctx.rates)),
        connector: r.message.connector ?? null,
      })),
      meta: {
        page_size: page.size,
        next_page_after: rows.length > page.size && last ? encodeCursor(last.message) : null,
      },
    };
  });
}
