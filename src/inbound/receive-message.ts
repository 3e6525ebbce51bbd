import { createHash } from 'node:crypto';
import { uuidV7 } from '../ids/uuid-v7.ts';
import type { MediaStore } from '../media/media-store.ts';
import { analyzeText } from '../messages/encoding.ts';
import { renderInboundMessage } from '../messages/render-inbound.ts';
import type { AutoReplyDeps } from '../optouts/auto-reply.ts';
import { handleKeyword } from '../optouts/handle-keyword.ts';
import { webhookTargets } from '../pipeline/webhook-targets.ts';
import type { MediaItem, MessageRecord, PhoneNumber, RecipientRecord } from '../store/records.ts';
import type { Repos, Store } from '../store/store.ts';
import { recordWebhookEvent } from '../webhooks/record-event.ts';

/** A message a carrier delivered to us, whatever the connector. Addresses are E.164 when they could be. */
export interface ReceivedMessage {
  connector: string;
  /** The carrier's id for it, when it gave one. */
  carrierMessageId: string | null;
  from: string;
  to: string[];
  cc: string[];
  /** Only used to find who received it: Bcc addressees are never shown to anyone. */
  bcc: string[];
  /**
   * The numbers of ours this copy is for, when the carrier sends one copy per receiving number
   * (Bandwidth); the others stay in `to`/`cc` as participants. Default: every addressee.
   */
  receivers?: string[];
  /**
   * Unique per carrier message, for carriers that may deliver one twice (at-least-once callbacks):
   * a second intake with the same key fails on the receipt's unique key and stores nothing.
   */
  dedupKey?: string;
  subject: string | null;
  text: string | null;
  media: Array<{ contentType: string; bytes: Buffer }>;
  /** Connector-specific facts kept with the receipt for the operator (transaction ids, …). */
  details?: Record<string, unknown>;
}

export interface ReceiveDeps {
  store: Store;
  media: MediaStore;
  /** The absolute URL the gateway serves `/media/<sha256>` at. */
  mediaUrl(sha256: string): string;
  /** For the replies to STOP, START and HELP, which go out as ordinary messages. */
  replies: AutoReplyDeps;
  now?: () => Date;
}

export interface ReceiveOutcome {
  receiptId: string;
  /** One inbound message per receiving organization and profile; empty when no number was ours. */
  messageIds: string[];
  webhooks: number;
}

const unique = (list: string[]) => [...new Set(list)];

/**
 * The inbound intake: stores the media content-addressed, then in ONE transaction keeps the receipt
 * and, for each organization (and messaging profile) owning a receiving number, an inbound message
 * with a `message.received` event for the profile's webhooks. A message none of whose numbers is
 * registered is only kept as a receipt for the operator. A message that is an opt-out, opt-in or help
 * keyword also changes the profile's block rules and queues the reply, in the same transaction.
 * `inTransaction` runs first in that transaction (a connector's replay guard): when it throws,
 * nothing is stored.
 */
export async function receiveMessage(
  deps: ReceiveDeps,
  received: ReceivedMessage,
  inTransaction?: (tx: Repos) => Promise<void>,
): Promise<ReceiveOutcome> {
  const now = deps.now?.() ?? new Date();
  const media: MediaItem[] = [];
  for (const part of received.media) {
    const sha256 = createHash('sha256').update(part.bytes).digest('hex');
    await deps.media.put(part.bytes, sha256);
    media.push({
      url: deps.mediaUrl(sha256),
      content_type: part.contentType,
      sha256,
      size: part.bytes.length,
    });
  }
  const shown = unique([...received.to, ...received.cc]);
  const everyone = unique([...shown, ...received.bcc]);

  const outcome = await deps.store.transaction(async (tx) => {
    await inTransaction?.(tx);
    // In the order they were addressed: the first of a profile's numbers is the one that replies.
    const ours = (await tx.numbers.findByNumbers(received.receivers ?? everyone)).sort(
      (a, b) => everyone.indexOf(a.phone_number) - everyone.indexOf(b.phone_number),
    );
    const groups = new Map<string, PhoneNumber[]>();
    for (const n of ours) {
      const key = `${n.organization_id} ${n.messaging_profile_id ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    const messageIds: string[] = [];
    let webhooks = 0;
    let replies = 0;
    for (const numbers of groups.values()) {
      const made = await storeInbound(tx, deps.replies, received, media, numbers, shown, now);
      messageIds.push(made.id);
      if (made.webhook) webhooks++;
      if (made.replied) replies++;
    }
    const receiptId = uuidV7(now.getTime());
    await tx.inboundReceipts.insert({
      id: receiptId,
      connector: received.connector,
      kind: 'message',
      carrier_message_id: received.carrierMessageId,
      payload: {
        from: received.from,
        to: received.to,
        cc: received.cc,
        bcc: received.bcc,
        subject: received.subject,
        text: received.text,
        media,
        ...(received.details ?? {}),
      },
      message_ids: messageIds,
      routed: messageIds.length > 0,
      received_at: now.toISOString(),
      dedup_key: received.dedupKey ?? null,
    });
    return { receiptId, messageIds, webhooks, replies };
  });
  if (outcome.replies > 0) deps.replies.onQueued?.();
  return { receiptId: outcome.receiptId, messageIds: outcome.messageIds, webhooks: outcome.webhooks };
}

async function storeInbound(
  tx: Repos,
  replies: AutoReplyDeps,
  received: ReceivedMessage,
  media: MediaItem[],
  numbers: PhoneNumber[],
  shown: string[],
  now: Date,
): Promise<{ id: string; webhook: boolean; replied: boolean }> {
  const first = numbers[0]!;
  const receivers = new Set(numbers.map((n) => n.phone_number));
  const at = now.toISOString();
  const id = uuidV7(now.getTime());
  const message: MessageRecord = {
    id,
    organization_id: first.organization_id,
    messaging_profile_id: first.messaging_profile_id ?? '',
    from_number: received.from,
    from_carrier: null,
    from_line_type: null,
    text: received.text,
    subject: received.subject,
    media,
    webhook_url: null,
    webhook_failover_url: null,
    use_profile_webhooks: true,
    ...analyzeText(received.text),
    tags: [],
    received_at: at,
    valid_until: at,
    direction: 'inbound',
    cc: shown.filter((p) => !receivers.has(p)),
  };
  const recipients: RecipientRecord[] = numbers.map((n, position) => ({
    id: uuidV7(now.getTime()),
    message_id: id,
    position,
    phone_number: n.phone_number,
    carrier: null,
    line_type: null,
    status: 'delivered',
    // Kept on the receipt: a carrier id here could be matched by a delivery report of our own sends.
    carrier_message_id: null,
    cost: null,
    errors: [],
    sent_at: null,
    completed_at: at,
    updated_at: at,
  }));
  await tx.messages.insert(message, recipients);
  const profile = first.messaging_profile_id
    ? await tx.profiles.get(first.organization_id, first.messaging_profile_id)
    : undefined;
  const keyword = profile
    ? await handleKeyword(tx, replies, {
        organizationId: first.organization_id,
        messagingProfileId: profile.id,
        receivingNumber: first.phone_number,
        sender: received.from,
        text: received.text,
        now,
      })
    : null;
  const payload = renderInboundMessage(message, recipients);
  const webhook = await recordWebhookEvent(tx, {
    organizationId: message.organization_id,
    messageId: id,
    recipientId: id,
    eventType: 'message.received',
    payload: keyword ? { ...payload, autoresponse_type: keyword.autoresponseType } : payload,
    urls: webhookTargets(message, profile?.data),
    now,
  });
  return { id, webhook, replied: keyword !== null };
}
