import type { MessageRecord, Money, RecipientRecord, TelnyxErrorRecord } from '../store/records.ts';
import type { OutboundMessagePayload } from './message-schema.ts';
import type { RateTable } from './pricing.ts';
import { isFinalStatus } from './status.ts';

function latest(values: Array<string | null>): string | null {
  return values.reduce<string | null>((acc, v) => (v !== null && (acc === null || v > acc) ? v : acc), null);
}

function earliest(values: Array<string | null>): string | null {
  return values.reduce<string | null>((acc, v) => (v !== null && (acc === null || v < acc) ? v : acc), null);
}

const LINE_TYPES = new Set<string>(['Wireline', 'Wireless', 'VoWiFi', 'VoIP', 'Pre-Paid Wireless']);

/** A line type as Telnyx's schemas name them; an unknown one is "" (they have no null for it). */
export function lineType(value: string | null): OutboundMessagePayload['from']['line_type'] {
  return value !== null && LINE_TYPES.has(value)
    ? (value as OutboundMessagePayload['from']['line_type'])
    : '';
}

function payload(
  m: MessageRecord,
  id: string,
  recipients: RecipientRecord[],
  cost: Money | null,
  errors: TelnyxErrorRecord[],
): OutboundMessagePayload {
  const allFinal = recipients.every((r) => isFinalStatus(r.status));
  const stillQueued = recipients.some((r) => r.status === 'queued');
  return {
    record_type: 'message',
    direction: 'outbound',
    id,
    type: 'MMS',
    messaging_profile_id: m.messaging_profile_id,
    organization_id: m.organization_id,
    // Telnyx's schema has no null for these: an unknown carrier or line type is "".
    from: {
      phone_number: m.from_number,
      carrier: m.from_carrier ?? '',
      line_type: lineType(m.from_line_type),
    },
    to: recipients.map((r) => ({
      phone_number: r.phone_number,
      status: r.status,
      carrier: r.carrier ?? '',
      line_type: lineType(r.line_type),
    })),
    cc: [],
    text: m.text ?? '',
    subject: m.subject,
    media: m.media,
    webhook_url: m.webhook_url,
    webhook_failover_url: m.webhook_failover_url,
    encoding: m.encoding,
    parts: m.parts,
    num_chars: m.num_chars,
    smart_encoding_applied: false,
    tags: m.tags,
    cost,
    cost_breakdown: null,
    tcr_campaign_id: null,
    tcr_campaign_billable: false,
    tcr_campaign_registered: null,
    received_at: m.received_at,
    sent_at: earliest(recipients.map((r) => r.sent_at)),
    completed_at: allFinal ? latest(recipients.map((r) => r.completed_at)) : null,
    // Telnyx nulls valid_until once the message has left the queue.
    valid_until: stillQueued ? m.valid_until : null,
    wait_seconds: null,
    errors,
    group_message_id: m.id,
  };
}

export type { OutboundMessagePayload };

/** The group message: every recipient in `to`, with its own status. */
export function renderGroupMessage(m: MessageRecord, recipients: RecipientRecord[], rates: RateTable | null) {
  const cost = rates ? rates.sum(recipients.map((r) => r.cost)) : null;
  return payload(
    m,
    m.id,
    recipients,
    cost,
    recipients.flatMap((r) => r.errors),
  );
}

/** One recipient's own record, as Telnyx keeps one message per recipient of a group MMS. */
export function renderRecipientMessage(m: MessageRecord, r: RecipientRecord) {
  return payload(m, r.id, [r], r.cost, r.errors);
}
