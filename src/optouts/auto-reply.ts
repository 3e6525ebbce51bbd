import { uuidV7 } from '../ids/uuid-v7.ts';
import { type NumberInfo, SEND_QUEUE } from '../messages/create-group-mms.ts';
import { analyzeText } from '../messages/encoding.ts';
import type { RateTable } from '../messages/pricing.ts';
import type { MessageRecord, RecipientRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';

/** What queueing an auto-reply needs: the same facts a send through the API uses. */
export interface AutoReplyDeps {
  lookupNumber(e164: string): NumberInfo;
  rates: RateTable | null;
  queueLifetimeMs: number;
  /** Told after the reply is committed, so idle workers can start at once. */
  onQueued?(): void;
}

export interface AutoReply {
  organizationId: string;
  messagingProfileId: string;
  /** Our number that received the keyword. */
  from: string;
  /** The number that sent it. */
  to: string;
  text: string;
  now: Date;
}

/**
 * Stores the reply as an ordinary outbound message with its `message.send` job, in the caller's
 * transaction: it goes out through the profile's route like any other message. It skips the checks
 * of the send API on purpose: an opt-out confirmation goes to a number that just opted out.
 */
export async function queueAutoReply(tx: Repos, deps: AutoReplyDeps, reply: AutoReply): Promise<string> {
  const at = reply.now.toISOString();
  const id = uuidV7(reply.now.getTime());
  const sender = deps.lookupNumber(reply.from);
  const recipient = deps.lookupNumber(reply.to);
  const message: MessageRecord = {
    id,
    organization_id: reply.organizationId,
    messaging_profile_id: reply.messagingProfileId,
    from_number: reply.from,
    from_carrier: sender.carrier,
    from_line_type: sender.line_type,
    text: reply.text,
    subject: null,
    media: [],
    webhook_url: null,
    webhook_failover_url: null,
    use_profile_webhooks: true,
    ...analyzeText(reply.text),
    tags: [],
    received_at: at,
    valid_until: new Date(reply.now.getTime() + deps.queueLifetimeMs).toISOString(),
  };
  const recipients: RecipientRecord[] = [
    {
      id: uuidV7(reply.now.getTime()),
      message_id: id,
      position: 0,
      phone_number: reply.to,
      carrier: recipient.carrier,
      line_type: recipient.line_type,
      status: 'queued',
      carrier_message_id: null,
      cost: deps.rates?.priceFor(reply.to) ?? null,
      errors: [],
      sent_at: null,
      completed_at: null,
      updated_at: at,
    },
  ];
  await tx.messages.insert(message, recipients);
  await tx.jobs.enqueue({ queue: SEND_QUEUE, payload: { messageId: id }, fairKey: reply.organizationId });
  return id;
}
