import { z } from 'zod';
import { paginationMetaSchema, telnyxErrorSchema } from '../api/schemas/common.ts';
import { RECIPIENT_STATUSES } from './status.ts';

const LINE_TYPES = ['Wireline', 'Wireless', 'VoWiFi', 'VoIP', 'Pre-Paid Wireless', ''] as const;
const nullableDateTime = z.iso.datetime().nullable();
const nullableUrl = z.url().nullable();

const money = z.object({ amount: z.string(), currency: z.string() });

const address = {
  phone_number: z.string().describe('+E.164 phone number.'),
  carrier: z.string().describe('The carrier, or "" when the number lookup does not know it.'),
  line_type: z.enum(LINE_TYPES).describe('The line type, or "" when the number lookup does not know it.'),
};

/** Telnyx's `OutboundMessagePayload`: what the API answers and what webhooks carry. */
export const outboundMessagePayloadSchema = z
  .object({
    record_type: z.enum(['message']),
    direction: z.enum(['outbound']),
    id: z.uuid(),
    type: z.enum(['SMS', 'MMS']),
    messaging_profile_id: z.string(),
    organization_id: z.uuid(),
    from: z.object(address),
    to: z.array(z.object({ ...address, status: z.enum(RECIPIENT_STATUSES) })),
    cc: z.array(
      z.object({
        ...address,
        // Telnyx's cc statuses are the recipient statuses without `expired`.
        status: z.enum(RECIPIENT_STATUSES).exclude(['expired']),
      }),
    ),
    text: z.string().describe('Message body; "" for a media-only message.'),
    subject: z.string().nullable(),
    media: z.array(
      z.object({
        url: z.url(),
        content_type: z.string().nullable(),
        sha256: z.string().nullable(),
        size: z.number().int().nullable(),
      }),
    ),
    webhook_url: nullableUrl,
    webhook_failover_url: nullableUrl,
    encoding: z.string(),
    parts: z.number().int(),
    num_chars: z.number().int(),
    smart_encoding_applied: z.boolean(),
    tags: z.array(z.string()),
    cost: money.nullable(),
    cost_breakdown: z.object({ rate: money.optional(), carrier_fee: money.optional() }).nullable(),
    tcr_campaign_id: z.string().nullable(),
    tcr_campaign_billable: z.boolean(),
    tcr_campaign_registered: z.string().nullable(),
    received_at: z.iso.datetime(),
    sent_at: nullableDateTime,
    completed_at: nullableDateTime,
    valid_until: nullableDateTime,
    wait_seconds: z.number().nullable(),
    errors: z.array(telnyxErrorSchema),
    group_message_id: z
      .uuid()
      .describe('Extension (as on Telnyx group MMS): the group this record belongs to.'),
  })
  .meta({ id: 'OutboundMessagePayload' });

export type OutboundMessagePayload = z.output<typeof outboundMessagePayloadSchema>;

export const messageResponseSchema = z.object({ data: outboundMessagePayloadSchema });
export const messageListResponseSchema = z.object({ data: z.array(outboundMessagePayloadSchema) });

/** `GET /v2/messages` (extension): filters and keyset pagination, newest first. */
export const messageListQuerySchema = z.object({
  filter: z
    .object({
      direction: z.enum(['outbound', 'inbound']).optional(),
      status: z.enum(RECIPIENT_STATUSES).optional().describe('Messages with a recipient in this status.'),
      from: z.string().optional().describe('Sender number, +E.164.'),
      to: z.string().optional().describe('A recipient number, +E.164.'),
      received_at: z
        .object({ gte: z.iso.datetime().optional(), lte: z.iso.datetime().optional() })
        .optional(),
      text: z
        .object({ contains: z.string().min(1).optional() })
        .optional()
        .describe('Text or subject contains.'),
    })
    .optional(),
  page: z
    .object({
      size: z.coerce.number().int().min(1).max(250).default(20),
      after: z.string().optional().describe('The `meta.next_page_after` of the previous page.'),
    })
    .default({ size: 20 }),
});

export const messagePageResponseSchema = z.object({
  data: z.array(
    outboundMessagePayloadSchema.extend({
      connector: z
        .string()
        .nullable()
        .describe('Extension: the connector that took the message (or refused it); null while none has.'),
    }),
  ),
  meta: z.object({
    page_size: z.number().int(),
    next_page_after: z.string().nullable().describe('Pass as `page[after]` for the next (older) page.'),
  }),
});

export { paginationMetaSchema };
