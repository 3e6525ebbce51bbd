import { z } from 'zod';

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

/** Telnyx `UpdatePhoneNumberMessagingSettingsRequest`: null or absent keeps, "" detaches. */
export const updateMessagingSchema = z.object({
  messaging_profile_id: z.string().nullish().describe('Profile to attach; "" detaches.'),
  messaging_product: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
});
