import type { WebhookAttemptRecord, WebhookEventRecord } from '../store/records.ts';
import type { WebhookDelivery } from './delivery-schema.ts';

function renderAttempt(a: WebhookAttemptRecord): WebhookDelivery['attempts'][number] {
  const finishedAt = new Date(a.created_at);
  return {
    status: a.outcome === 'delivered' ? 'delivered' : 'failed',
    started_at: new Date(finishedAt.getTime() - a.duration_ms).toISOString(),
    finished_at: finishedAt.toISOString(),
    http: {
      request: { url: a.url, headers: Object.entries(a.request_headers ?? {}) },
      ...(a.status_code === null
        ? {}
        : { response: { status: a.status_code, body: a.response_body ?? '', headers: [] } }),
    },
    attempt: a.attempt,
    duration_ms: a.duration_ms,
    error: a.error,
  };
}

/** Telnyx's `webhook_delivery`: the event as posted and every attempt, most recent first. */
export function renderWebhookDelivery(
  e: WebhookEventRecord,
  attempts: WebhookAttemptRecord[],
): WebhookDelivery {
  return {
    record_type: 'webhook_delivery',
    id: e.id,
    user_id: e.organization_id,
    ...(e.status === 'pending' ? {} : { status: e.status }),
    started_at: e.created_at,
    ...(e.completed_at ? { finished_at: e.completed_at } : {}),
    webhook: {
      event_type: e.event_type,
      id: e.id,
      occurred_at: e.occurred_at,
      payload: e.payload,
      record_type: 'event',
    },
    attempts: attempts
      .filter((a) => a.event_id === e.id)
      .map(renderAttempt)
      .reverse(),
  };
}
