import { uuidV7 } from '../ids/uuid-v7.ts';
import type { WebhookEventRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';

export const WEBHOOK_QUEUE = 'webhook.deliver';

export interface NewWebhookEvent {
  organizationId: string;
  messageId: string;
  /** The record the payload describes: a recipient's own id, or the message id of an inbound one. */
  recipientId: string;
  eventType: string;
  payload: Record<string, unknown>;
  /** In the order they are tried. */
  urls: string[];
  now: Date;
}

/**
 * Records a webhook event with the job that delivers it (signed, retried, failing over along `urls`),
 * inside the caller's transaction. No URLs: nothing is recorded.
 */
export async function recordWebhookEvent(tx: Repos, e: NewWebhookEvent): Promise<boolean> {
  return (await recordWebhookEvents(tx, [e])) > 0;
}

/** Many events (one INSERT), each with its own delivery job; returns how many were recorded. */
export async function recordWebhookEvents(tx: Repos, events: readonly NewWebhookEvent[]): Promise<number> {
  const rows: WebhookEventRecord[] = events
    .filter((e) => e.urls.length > 0)
    .map((e) => ({
      id: uuidV7(e.now.getTime()),
      organization_id: e.organizationId,
      message_id: e.messageId,
      recipient_id: e.recipientId,
      event_type: e.eventType,
      occurred_at: e.now.toISOString(),
      payload: e.payload,
      urls: e.urls.map((url) => ({ url, gone: false })),
      status: 'pending',
      attempts: 0,
      delivered_to: null,
      created_at: e.now.toISOString(),
      completed_at: null,
      next_attempt_at: null,
    }));
  if (rows.length === 0) return 0;
  if (rows.length === 1) await tx.webhooks.insertEvent(rows[0]!);
  else await tx.webhooks.insertEvents(rows);
  for (const row of rows) {
    await tx.jobs.enqueue({
      queue: WEBHOOK_QUEUE,
      payload: { eventId: row.id },
      fairKey: row.organization_id,
      // Only the delivery job changes its event.
      fresh: row,
    });
  }
  return rows.length;
}
