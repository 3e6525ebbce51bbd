import type { MessageRecord, ProfileData } from '../store/records.ts';

/**
 * Where a message's events go, in the order they are tried: the message's webhook_url and
 * webhook_failover_url, then, with use_profile_webhooks, the profile's. Empty means none are sent.
 */
export function webhookTargets(message: MessageRecord, profile: ProfileData | undefined): string[] {
  const urls = [message.webhook_url, message.webhook_failover_url];
  if (message.use_profile_webhooks && profile) urls.push(profile.webhook_url, profile.webhook_failover_url);
  return [...new Set(urls.filter((u): u is string => typeof u === 'string' && u.length > 0))];
}
