import type { ProfileData } from '../store/records.ts';

/** A new profile's fields before the caller's values are applied (Telnyx's documented defaults). */
export function defaultProfileData(name: string, whitelist: string[]): ProfileData {
  return {
    name,
    enabled: true,
    webhook_url: null,
    webhook_failover_url: null,
    webhook_api_version: '2',
    whitelisted_destinations: whitelist,
    alpha_sender: null,
    daily_spend_limit: '0',
    daily_spend_limit_enabled: false,
    health_webhook_url: null,
    mms_fall_back_to_sms: false,
    mms_transcoding: false,
    mobile_only: false,
    smart_encoding: false,
    redaction_enabled: false,
    redaction_level: 2,
    number_pool_settings: null,
    url_shortener_settings: null,
    ai_assistant_id: null,
    resource_group_id: null,
  };
}

/** Telnyx treats an empty webhook URL as "none". */
export function normaliseProfileData(data: ProfileData): ProfileData {
  return {
    ...data,
    webhook_url: data.webhook_url || null,
    webhook_failover_url: data.webhook_failover_url || null,
  };
}
