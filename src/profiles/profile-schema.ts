import { z } from 'zod';
import { boundedString, isStorableText } from '../validation/limits.ts';
import { codedMessage } from '../validation/telnyx-issues.ts';
import { isHttpUrl } from '../validation/url.ts';

export const MAX_PROFILE_NAME_LENGTH = 255;
/** Every ISO 3166-1 country fits many times over; anything longer is not a list of countries. */
export const MAX_WHITELISTED_DESTINATIONS = 300;
/** Free-form settings objects: how deep and how large (serialised) they may be. */

const url = z
  .string()
  .refine((v) => v === '' || isHttpUrl(v), { error: codedMessage('10003') })
  .nullish();

const countryList = z
  .array(
    z.string().regex(/^([A-Z]{2}|\*)$/, {
      error: codedMessage('10015', 'Expected an ISO 3166-1 alpha-2 code or "*".'),
    }),
  )
  .max(MAX_WHITELISTED_DESTINATIONS, {
    error: codedMessage('10015', `At most ${MAX_WHITELISTED_DESTINATIONS} destinations are allowed.`),
  });

const numberPoolSettings = z
  .object({
    toll_free_weight: z.number(),
    long_code_weight: z.number(),
    skip_unhealthy: z.boolean(),
    sticky_sender: z.boolean().optional(),
    geomatch: z.boolean().optional(),
  })
  .meta({ id: 'NumberPoolSettings' });

const urlShortenerSettings = z
  .object({
    domain: z.string(),
    prefix: z.string().optional(),
    replace_blacklist_only: z.boolean().optional(),
    send_webhooks: z.boolean().optional(),
  })
  .meta({ id: 'UrlShortenerSettings' });

/** Fields a caller may set on a messaging profile (Telnyx `CreateMessagingProfileRequest`). */
const settable = {
  name: boundedString(MAX_PROFILE_NAME_LENGTH, 1).refine(isStorableText, {
    error: codedMessage(
      '10015',
      "'name' contains NUL or a lone UTF-16 surrogate, which cannot be stored as given.",
    ),
  }),
  enabled: z.boolean(),
  webhook_url: url,
  webhook_failover_url: url,
  webhook_api_version: z.enum(['1', '2', '2010-04-01']),
  whitelisted_destinations: countryList,
  alpha_sender: z
    .string()
    .regex(/^[A-Za-z0-9 ]{1,11}$/)
    .nullish(),
  daily_spend_limit: boundedString(32).regex(/^[0-9]+(?:\.[0-9]+)?$/),
  daily_spend_limit_enabled: z.boolean(),
  health_webhook_url: url.describe('Extension on update (Telnyx sets it at creation only).'),
  mms_fall_back_to_sms: z.boolean(),
  mms_transcoding: z.boolean(),
  mobile_only: z.boolean(),
  smart_encoding: z.boolean(),
  redaction_enabled: z.boolean().describe('Extension: kept and shown, not acted on.'),
  redaction_level: z.number().int().describe('Extension: kept and shown, not acted on.'),
  number_pool_settings: numberPoolSettings.nullish(),
  url_shortener_settings: urlShortenerSettings.nullish(),
  ai_assistant_id: boundedString(64).nullish(),
  resource_group_id: boundedString(64)
    .nullish()
    .describe('Extension on update (Telnyx sets it at creation only).'),
};

export const createProfileSchema = z.object({
  ...settable,
  enabled: settable.enabled.optional(),
  webhook_url: settable.webhook_url.optional(),
  webhook_failover_url: settable.webhook_failover_url.optional(),
  webhook_api_version: settable.webhook_api_version.optional(),
  alpha_sender: settable.alpha_sender.optional(),
  daily_spend_limit: settable.daily_spend_limit.optional(),
  daily_spend_limit_enabled: settable.daily_spend_limit_enabled.optional(),
  health_webhook_url: settable.health_webhook_url.optional(),
  mms_fall_back_to_sms: settable.mms_fall_back_to_sms.optional(),
  mms_transcoding: settable.mms_transcoding.optional(),
  mobile_only: settable.mobile_only.optional(),
  smart_encoding: settable.smart_encoding.optional(),
  redaction_enabled: settable.redaction_enabled.optional(),
  redaction_level: settable.redaction_level.optional(),
  number_pool_settings: settable.number_pool_settings.optional(),
  url_shortener_settings: settable.url_shortener_settings.optional(),
  ai_assistant_id: settable.ai_assistant_id.optional(),
  resource_group_id: settable.resource_group_id.optional(),
});

export const updateProfileSchema = z
  .object({ ...settable, v1_secret: z.string().describe('Accepted and ignored: there is no v1 API.') })
  .partial();

/** Telnyx's `MessagingProfile` as the API answers it. */
export const messagingProfileSchema = z
  .object({
    record_type: z.enum(['messaging_profile']),
    id: z.uuid(),
    organization_id: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    webhook_url: z.url().nullable(),
    webhook_failover_url: z.url().nullable(),
    webhook_api_version: settable.webhook_api_version,
    whitelisted_destinations: z.array(z.string()),
    alpha_sender: z.string().nullable(),
    daily_spend_limit: z.string(),
    daily_spend_limit_enabled: z.boolean(),
    health_webhook_url: z.url().nullable(),
    mms_fall_back_to_sms: z.boolean(),
    mms_transcoding: z.boolean(),
    mobile_only: z.boolean(),
    smart_encoding: z.boolean(),
    redaction_enabled: z.boolean(),
    redaction_level: z.number().int(),
    number_pool_settings: numberPoolSettings.nullable(),
    url_shortener_settings: urlShortenerSettings.nullable(),
    ai_assistant_id: z.string().nullable(),
    resource_group_id: z.string().nullable(),
    v1_secret: z.string().optional().describe('Absent: the gateway has no v1 API.'),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'MessagingProfile' });

export type MessagingProfilePayload = z.output<typeof messagingProfileSchema>;
