import type {
  MessageRecord,
  MessagingProfile,
  Organization,
  PhoneNumber,
  RecipientRecord,
  WebhookEventRecord,
} from '../../src/store/records.ts';
import type { Repos } from '../../src/store/store.ts';

/** A fixed ISO timestamp `ms` milliseconds after 2024-01-01T00:00:00Z. */
export const iso = (ms: number): string => new Date(Date.UTC(2024, 0, 1) + ms).toISOString();

export async function seedOrganization(
  repos: Pick<Repos, 'organizations'>,
  id: string,
): Promise<Organization> {
  const org = { id, name: `Org ${id}`, created_at: iso(0) };
  await repos.organizations.create(org);
  return org;
}

export function profile(organizationId: string, id: string, createdAtMs = 0): MessagingProfile {
  return {
    id,
    organization_id: organizationId,
    data: {
      name: `Profile ${id}`,
      enabled: true,
      webhook_url: 'https://hooks.example.com/primary',
      webhook_failover_url: null,
      whitelisted_destinations: ['US', 'CA'],
      number_pool_settings: { geomatch: false, weights: [1, 2.5] },
    },
    created_at: iso(createdAtMs),
    updated_at: iso(createdAtMs),
  };
}

export function phoneNumber(
  organizationId: string,
  id: string,
  e164: string,
  profileId: string | null,
): PhoneNumber {
  return {
    id,
    organization_id: organizationId,
    phone_number: e164,
    messaging_profile_id: profileId,
    tags: ['sales', 'ünïcode ✓'],
    created_at: iso(0),
    updated_at: iso(0),
  };
}

export function message(organizationId: string, profileId: string, id: string): MessageRecord {
  return {
    id,
    organization_id: organizationId,
    messaging_profile_id: profileId,
    from_number: '+15550001000',
    from_carrier: 'Sim Mobile',
    from_line_type: 'Wireless',
    text: 'Hello, group 👋',
    subject: null,
    media: [
      { url: 'https://media.example.com/a.jpg', content_type: 'image/jpeg', sha256: null, size: 12345 },
    ],
    webhook_url: 'https://hooks.example.com/message',
    webhook_failover_url: null,
    use_profile_webhooks: true,
    encoding: 'UCS-2',
    parts: 1,
    num_chars: 15,
    tags: ['campaign'],
    received_at: iso(100),
    valid_until: iso(100 + 86_400_000),
  };
}

export function recipient(messageId: string, id: string, position: number, e164: string): RecipientRecord {
  return {
    id,
    message_id: messageId,
    position,
    phone_number: e164,
    carrier: 'Sim Mobile',
    line_type: 'Wireless',
    status: 'queued',
    carrier_message_id: null,
    cost: { amount: '0.0040', currency: 'USD' },
    errors: [],
    sent_at: null,
    completed_at: null,
    updated_at: iso(100),
  };
}

export function webhookEvent(
  organizationId: string,
  messageId: string,
  id: string,
  createdAtMs: number,
): WebhookEventRecord {
  return {
    id,
    organization_id: organizationId,
    message_id: messageId,
    recipient_id: 'rcp_1',
    event_type: 'message.sent',
    occurred_at: iso(createdAtMs),
    payload: { data: { event_type: 'message.sent', payload: { id: 'rcp_1', cost: null } } },
    urls: [{ url: 'https://hooks.example.com/message', gone: false }],
    status: 'pending',
    attempts: 0,
    delivered_to: null,
    created_at: iso(createdAtMs),
    completed_at: null,
    next_attempt_at: null,
  };
}
