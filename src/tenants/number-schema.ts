import { z } from 'zod';
import { boundedString, isStorableText } from '../validation/limits.ts';
import { codedMessage } from '../validation/telnyx-issues.ts';

const featureSet = z
  .object({
    domestic_two_way: z.boolean(),
    international_inbound: z.boolean(),
    international_outbound: z.boolean(),
  })
  .meta({ id: 'MessagingFeatureSet' });

/** Telnyx's `PhoneNumberWithMessagingSettings`. */
export const phoneNumberSchema = z
  .object({
    record_type: z.enum(['messaging_phone_number', 'messaging_settings']),
    id: z.string(),
    phone_number: z.string(),
    organization_id: z.string(),
    messaging_profile_id: z.string().nullable(),
    country_code: z.string().describe('ISO 3166-1 alpha-2, or "" when unknown.'),
    type: z.enum(['long-code', 'toll-free', 'short-code', 'longcode', 'tollfree', 'shortcode']),
    messaging_product: z.string(),
    traffic_type: z.string(),
    eligible_messaging_products: z.array(z.string()),
    features: z.object({ sms: featureSet.nullable(), mms: featureSet.nullable() }),
    health: z
      .object({
        message_count: z.number().int(),
        inbound_outbound_ratio: z.number(),
        success_ratio: z.number(),
        spam_ratio: z.number(),
      })
      .optional()
      .describe('Absent: the gateway keeps no health metrics.'),
    tags: z.array(z.string()),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'PhoneNumberWithMessagingSettings' });

export type PhoneNumberPayload = z.output<typeof phoneNumberSchema>;

export const MAX_TAGS = 50;
export const MAX_TAG_LENGTH = 128;

/** Telnyx `UpdatePhoneNumberMessagingSettingsRequest`: null or absent keeps, "" detaches. */
export const updateMessagingSchema = z.object({
  messaging_profile_id: boundedString(64).nullish().describe('Profile to attach; "" detaches.'),
  messaging_product: boundedString(64).nullish(),
  tags: z
    .array(
      boundedString(MAX_TAG_LENGTH, 1).refine(isStorableText, {
        error: codedMessage('10015', 'A tag may not contain NUL or a lone UTF-16 surrogate.'),
      }),
    )
    .max(MAX_TAGS, { error: codedMessage('10015', `At most ${MAX_TAGS} tags are allowed.`) })
    .nullish(),
});
