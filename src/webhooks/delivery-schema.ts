import { z } from 'zod';
import { pageQuerySchema } from '../api/query.ts';
import { paginationMetaSchema } from '../api/schemas/common.ts';

const iso = z.string().describe('ISO 8601 datetime');
const deliveryStatus = z.enum(['delivered', 'failed']);

/** `GET /v2/webhook_deliveries` query: Telnyx's `filter` and `page` (deepObject). */
export const webhookDeliveryListQuerySchema = z.object({
  filter: z
    .object({
      status: z.object({ eq: deliveryStatus.optional() }).optional(),
      event_type: z
        .string()
        .optional()
        .describe(
          'Return only webhook_deliveries matching the given value of `event_type`. Accepts multiple values separated by a `,`.',
        ),
      webhook: z.object({ contains: z.string().optional() }).optional(),
      attempts: z.object({ contains: z.string().optional() }).optional(),
      started_at: z.object({ gte: iso.optional(), lte: iso.optional() }).optional(),
      finished_at: z.object({ gte: iso.optional(), lte: iso.optional() }).optional(),
    })
    .optional(),
  page: pageQuerySchema,
});

const httpHeaders = z.array(z.array(z.string())).meta({ id: 'http_headers' });

export const webhookAttemptSchema = z
  .object({
    status: deliveryStatus,
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime(),
    http: z
      .object({
        request: z.object({ url: z.string(), headers: httpHeaders }),
        response: z.object({ status: z.number().int(), body: z.string(), headers: httpHeaders }).optional(),
      })
      .meta({ id: 'http' }),
    errors: z.array(z.number().int()).optional().describe('Webhook delivery error codes.'),
    // Extensions: what the gateway knows about each attempt beyond Telnyx's fields.
    attempt: z.number().int().describe('Extension: the delivery round this attempt belongs to (1-based).'),
    duration_ms: z.number().int().describe('Extension: how long the attempt took.'),
    error: z.string().nullable().describe('Extension: why the attempt failed, in words.'),
  })
  .meta({ id: 'attempt' });

export const webhookDeliverySchema = z
  .object({
    record_type: z.literal('webhook_delivery'),
    id: z.uuid(),
    user_id: z.uuid(),
    status: deliveryStatus.optional().describe('Absent while the delivery is still being retried.'),
    started_at: z.iso.datetime(),
    finished_at: z.iso.datetime().optional(),
    webhook: z.object({
      event_type: z.string(),
      id: z.uuid(),
      occurred_at: z.iso.datetime(),
      payload: z.record(z.string(), z.unknown()),
      record_type: z.enum(['event']),
    }),
    attempts: z.array(webhookAttemptSchema).describe('Detailed delivery attempts, ordered by most recent.'),
  })
  .meta({ id: 'webhook_delivery' });

export const webhookDeliveryListSchema = z.object({
  data: z.array(webhookDeliverySchema),
  meta: paginationMetaSchema,
});

export const webhookDeliveryResponseSchema = z.object({ data: webhookDeliverySchema });

export type WebhookDelivery = z.output<typeof webhookDeliverySchema>;
