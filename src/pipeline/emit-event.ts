import { renderRecipientMessage } from '../messages/render.ts';
import type { MessageRecord, RecipientRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';
import { recordWebhookEvents } from '../webhooks/record-event.ts';
import { webhookTargets } from './webhook-targets.ts';

export { WEBHOOK_QUEUE } from '../webhooks/record-event.ts';

export type MessageEventType = 'message.sent' | 'message.finalized';

/**
 * Records a webhook event for one recipient's new status, with the job that delivers it, inside the
 * transaction that changed the status. The payload is the recipient's record at that moment.
 */
export async function emitRecipientEvent(
  tx: Repos,
  message: MessageRecord,
  recipient: RecipientRecord,
  eventType: MessageEventType,
  now: Date,
): Promise<boolean> {
  return (await emitRecipientEvents(tx, message, [recipient], eventType, now)) > 0;
}

/** The same event for several recipients of one message: one profile read, one INSERT. */
export async function emitRecipientEvents(
  tx: Repos,
  message: MessageRecord,
  recipients: readonly RecipientRecord[],
  eventType: MessageEventType,
  now: Date,
): Promise<number> {
  if (recipients.length === 0) return 0;
  const profile = message.use_profile_webhooks
    ? await tx.profiles.get(message.organization_id, message.messaging_profile_id)
    : undefined;
  const urls = webhookTargets(message, profile?.data);
  return recordWebhookEvents(
    tx,
    recipients.map((recipient) => ({
      organizationId: message.organization_id,
      messageId: message.id,
      recipientId: recipient.id,
      eventType,
      payload: renderRecipientMessage(message, recipient),
      urls,
      now,
    })),
  );
}
