import { uuidV7 } from '../ids/uuid-v7.ts';
import { renderRecipientMessage } from '../messages/render.ts';
import type { MessageRecord, RecipientRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';
import { webhookTargets } from './webhook-targets.ts';

export const WEBHOOK_QUEUE = 'webhook.deliver';

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
  const profile = message.use_profile_webhooks
    ? await tx.profiles.get(message.organization_id, message.messaging_profile_id)
    : undefined;
  const urls = webhookTargets(message, profile?.data);
  if (urls.length === 0) return false;
  const id = uuidV7(now.getTime());
  await tx.webhooks.insertEvent({
    id,
    organization_id: message.organization_id,
    message_id: message.id,
    recipient_id: recipient.id,
    event_type: eventType,
    occurred_at: now.toISOString(),
    payload: renderRecipientMessage(message, recipient),
    urls: urls.map((url) => ({ url, gone: false })),
    status: 'pending',
    attempts: 0,
    delivered_to: null,
    created_at: now.toISOString(),
    completed_at: null,
  });
  await tx.jobs.enqueue({
    queue: WEBHOOK_QUEUE,
    payload: { eventId: id },
    fairKey: message.organization_id,
  });
  return true;
}
