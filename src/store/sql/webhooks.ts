import type { WebhookAttemptRecord, WebhookEventRecord, WebhookUrlState } from '../records.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

type EventRow = Omit<WebhookEventRecord, 'payload' | 'urls'> & { payload: string; urls: string };

const eventFromRow = (r: EventRow): WebhookEventRecord => ({
  ...r,
  attempts: Number(r.attempts),
  payload: parseJson<Record<string, unknown>>(r.payload, {}),
  urls: parseJson<WebhookUrlState[]>(r.urls, []),
});

const attemptFromRow = (r: WebhookAttemptRecord): WebhookAttemptRecord => ({
  ...r,
  id: Number(r.id),
  attempt: Number(r.attempt),
  duration_ms: Number(r.duration_ms),
  status_code: r.status_code === null ? null : Number(r.status_code),
});

export function webhooksRepo(db: SqlExecutor) {
  return {
    async insertEvent(e: WebhookEventRecord): Promise<void> {
      await db.run(
        `INSERT INTO webhook_events (id, organization_id, message_id, recipient_id, event_type, occurred_at, payload,
           urls, status, attempts, delivered_to, created_at, completed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          e.id,
          e.organization_id,
          e.message_id,
          e.recipient_id,
          e.event_type,
          e.occurred_at,
          JSON.stringify(e.payload),
          JSON.stringify(e.urls),
          e.status,
          e.attempts,
          e.delivered_to,
          e.created_at,
          e.completed_at,
        ],
      );
    },
    async getEvent(id: string): Promise<WebhookEventRecord | undefined> {
      const row = await db.get<EventRow>('SELECT * FROM webhook_events WHERE id = ?', [id]);
      return row && eventFromRow(row);
    },
    async updateEvent(
      id: string,
      fields: Pick<WebhookEventRecord, 'urls' | 'status' | 'attempts' | 'delivered_to' | 'completed_at'> & {
        next_attempt_at?: string | null;
      },
    ): Promise<void> {
      await db.run(
        'UPDATE webhook_events SET urls = ?, status = ?, attempts = ?, delivered_to = ?, completed_at = ?, next_attempt_at = ? WHERE id = ?',
        [
          JSON.stringify(fields.urls),
          fields.status,
          fields.attempts,
          fields.delivered_to,
          fields.completed_at,
          fields.next_attempt_at ?? null,
          id,
        ],
      );
    },
    async insertAttempt(a: Omit<WebhookAttemptRecord, 'id'>): Promise<void> {
      await db.run(
        `INSERT INTO webhook_attempts (event_id, attempt, url, outcome, status_code, duration_ms, response_body, error, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          a.event_id,
          a.attempt,
          a.url,
          a.outcome,
          a.status_code,
          a.duration_ms,
          a.response_body,
          a.error,
          a.created_at,
        ],
      );
    },
    async listEventsForMessage(messageId: string): Promise<WebhookEventRecord[]> {
      const rows = await db.all<EventRow>(
        'SELECT * FROM webhook_events WHERE message_id = ? ORDER BY created_at, id',
        [messageId],
      );
      return rows.map(eventFromRow);
    },
    async listAttemptsForMessage(messageId: string): Promise<WebhookAttemptRecord[]> {
      const rows = await db.all<WebhookAttemptRecord>(
        `SELECT a.* FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id
         WHERE e.message_id = ? ORDER BY a.id`,
        [messageId],
      );
      return rows.map(attemptFromRow);
    },
  };
}
