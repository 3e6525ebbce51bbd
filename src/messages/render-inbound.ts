import type { MessageRecord, RecipientRecord } from '../store/records.ts';
import { lineType } from './render.ts';

/**
 * A received message as Telnyx's `InboundMessagePayload`: `to` holds the organization's numbers that
 * received it, `cc` the other addressees of the group (never Bcc), media with `hash_sha256`. An
 * unknown carrier or line type is "", as in Telnyx's schema. `hash_sha256` is the media's SHA-256 as
 * 64 hex characters, although the schema says 32 (the length of an MD5 in hex).
 */
export function renderInboundMessage(m: MessageRecord, recipients: RecipientRecord[]) {
  return {
    record_type: 'message',
    direction: 'inbound',
    id: m.id,
    type: 'MMS',
    messaging_profile_id: m.messaging_profile_id || null,
    organization_id: m.organization_id,
    from: {
      phone_number: m.from_number,
      carrier: m.from_carrier ?? '',
      line_type: lineType(m.from_line_type),
      status: 'received',
    },
    to: recipients.map((r) => ({
      phone_number: r.phone_number,
      carrier: r.carrier ?? '',
      line_type: lineType(r.line_type),
      status: r.status,
    })),
    cc: (m.cc ?? []).map((phone_number) => ({
      phone_number,
      carrier: '',
      line_type: '' as const,
      status: 'delivered',
    })),
    text: m.text,
    subject: m.subject,
    media: m.media.map((x) => ({
      url: x.url,
      content_type: x.content_type,
      size: x.size,
      hash_sha256: x.sha256,
    })),
    webhook_url: m.webhook_url,
    webhook_failover_url: m.webhook_failover_url,
    encoding: m.encoding,
    parts: m.parts,
    num_chars: m.num_chars,
    tags: m.tags,
    cost: null,
    cost_breakdown: null,
    tcr_campaign_id: null,
    tcr_campaign_billable: false,
    tcr_campaign_registered: null,
    received_at: m.received_at,
    sent_at: null,
    completed_at: null,
    valid_until: null,
    errors: [],
  };
}
