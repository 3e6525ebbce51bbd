import type {
  Page,
  PageResult,
  WebhookAttemptRecord,
  WebhookDeliveryFilter,
  WebhookEventRecord,
  WebhookUrlState,
} from '../records.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';
import { containsPattern } from './like.ts';

type EventRow = Omit<WebhookEventRecord, 'payload' | 'urls'> & { payload: string; urls: string };

const eventFromRow = (r: EventRow): WebhookEventRecord => ({
  ...r,
  attempts: Number(r.attempts),
  payload: parseJson<Record<string, unknown>>(r.payload, {}),
  urls: parseJson<WebhookUrlState[]>(r.urls, []),
});

type AttemptRow = Omit<WebhookAttemptRecord, 'request_headers'> & { request_headers?: string | null };

const attemptFromRow = (r: AttemptRow): WebhookAttemptRecord => ({
  ...r,
  request_headers: parseJson<Record<string, string> | null>(r.request_headers, null),
  id: Number(r.id),
  attempt: Number(r.attempt),
  duration_ms: Number(r.duration_ms),
  status_code: r.status_code === null ? null : Number(r.status_code),
});

/** A webhook event's state after a delivery round. */
export interface WebhookEventUpdate {
  id: string;
  fields: Pick<WebhookEventRecord, 'urls' | 'status' | 'attempts' | 'delivered_to' | 'completed_at'> & {
    next_attempt_at?: string | null;
  };
}

export function webhooksRepo(db: SqlExecutor) {
  /** Many events' new state in one statement (the rounds a completion batch records). */
  async function updateEvents(updates: readonly WebhookEventUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const values = (u: WebhookEventUpdate) => [
      u.id,
      JSON.stringify(u.fields.urls),
      u.fields.status,
      u.fields.attempts,
      u.fields.delivered_to,
      u.fields.completed_at,
      u.fields.next_attempt_at ?? null,
    ];
    if (updates.length === 1) {
      const [id, ...rest] = values(updates[0]!);
      await db.run(
        'UPDATE webhook_events SET urls = ?, status = ?, attempts = ?, delivered_to = ?, completed_at = ?, next_attempt_at = ? WHERE id = ?',
        [...rest, id],
      );
      return;
    }
    // The same event twice: the later state wins, as it would one statement after the other.
    const last = [...new Map(updates.map((u) => [u.id, u])).values()];
    await db.run(
      `WITH v (id, urls, status, attempts, delivered_to, completed_at, next_attempt_at) AS (
         VALUES ${last.map(() => '(?, ?, ?, CAST(? AS INTEGER), ?, ?, ?)').join(', ')}
       )
       UPDATE webhook_events SET urls = v.urls, status = v.status, attempts = v.attempts,
         delivered_to = v.delivered_to, completed_at = v.completed_at, next_attempt_at = v.next_attempt_at
       FROM v WHERE webhook_events.id = v.id`,
      last.flatMap(values),
    );
  }

  async function insertAttempts(attempts: readonly Omit<WebhookAttemptRecord, 'id'>[]): Promise<void> {
    if (attempts.length === 0) return;
    await db.run(
      `INSERT INTO webhook_attempts (event_id, attempt, url, outcome, status_code, duration_ms, response_body, error,
         created_at, request_headers)
       VALUES ${attempts.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      attempts.flatMap((a) => [
        a.event_id,
        a.attempt,
        a.url,
        a.outcome,
        a.status_code,
        a.duration_ms,
        a.response_body,
        a.error,
        a.created_at,
        a.request_headers ? JSON.stringify(a.request_headers) : null,
      ]),
    );
  }

  /** Many events in one statement. */
  async function insertEvents(events: readonly WebhookEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    await db.run(
      `INSERT INTO webhook_events (id, organization_id, message_id, recipient_id, event_type, occurred_at, payload,
         urls, status, attempts, delivered_to, created_at, completed_at)
       VALUES ${events.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      events.flatMap((e) => [
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
      ]),
    );
  }

  return {
    insertEvent: (e: WebhookEventRecord): Promise<void> => insertEvents([e]),
    insertEvents,
    /** Many events by id, in one statement. */
    async getEvents(ids: readonly string[]): Promise<Map<string, WebhookEventRecord>> {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return new Map();
      const rows = await db.all<EventRow>(
        `SELECT * FROM webhook_events WHERE id IN (${unique.map(() => '?').join(', ')})`,
        unique,
      );
      return new Map(rows.map((r) => [r.id, eventFromRow(r)]));
    },
    async getEvent(id: string): Promise<WebhookEventRecord | undefined> {
      const row = await db.get<EventRow>('SELECT * FROM webhook_events WHERE id = ?', [id]);
      return row && eventFromRow(row);
    },
    updateEvent: (id: string, fields: WebhookEventUpdate['fields']): Promise<void> =>
      updateEvents([{ id, fields }]),
    updateEvents,
    insertAttempt: (a: Omit<WebhookAttemptRecord, 'id'>): Promise<void> => insertAttempts([a]),
    insertAttempts,
    async listEventsForMessage(messageId: string): Promise<WebhookEventRecord[]> {
      const rows = await db.all<EventRow>(
        'SELECT * FROM webhook_events WHERE message_id = ? ORDER BY created_at, id',
        [messageId],
      );
      return rows.map(eventFromRow);
    },
    async listAttemptsForMessage(messageId: string): Promise<WebhookAttemptRecord[]> {
      const rows = await db.all<AttemptRow>(
        `SELECT a.* FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id
         WHERE e.message_id = ? ORDER BY a.id`,
        [messageId],
      );
      return rows.map(attemptFromRow);
    },
    async getEventForOrganization(
      organizationId: string,
      id: string,
    ): Promise<WebhookEventRecord | undefined> {
      const row = await db.get<EventRow>(
        'SELECT * FROM webhook_events WHERE id = ? AND organization_id = ?',
        [id, organizationId],
      );
      return row && eventFromRow(row);
    },
    async listAttemptsForEvents(eventIds: string[]): Promise<WebhookAttemptRecord[]> {
      if (eventIds.length === 0) return [];
      const rows = await db.all<AttemptRow>(
        `SELECT * FROM webhook_attempts WHERE event_id IN (${eventIds.map(() => '?').join(', ')}) ORDER BY id`,
        eventIds,
      );
      return rows.map(attemptFromRow);
    },
    /** An organization's events, newest first, through the webhook_events_org index. */
    async listForOrganization(
      organizationId: string,
      filter: WebhookDeliveryFilter,
      page: Page,
    ): Promise<PageResult<WebhookEventRecord>> {
      const where = ['organization_id = ?'];
      const params: unknown[] = [organizationId];
      if (filter.status) {
        where.push('status = ?');
        params.push(filter.status);
      }
      if (filter.eventTypes?.length) {
        where.push(`event_type IN (${filter.eventTypes.map(() => '?').join(', ')})`);
        params.push(...filter.eventTypes);
      }
      if (filter.webhookContains) {
        where.push("(payload LIKE ? ESCAPE '\\' OR event_type LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')");
        const pattern = containsPattern(filter.webhookContains);
        params.push(pattern, pattern, pattern);
      }
      if (filter.attemptsContains) {
        const pattern = containsPattern(filter.attemptsContains);
        where.push(
          `EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.event_id = webhook_events.id AND
             (a.url LIKE ? ESCAPE '\\' OR a.response_body LIKE ? ESCAPE '\\' OR a.error LIKE ? ESCAPE '\\'))`,
        );
        params.push(pattern, pattern, pattern);
      }
      const range: Array<[string | undefined, string]> = [
        [filter.startedGte, 'created_at >= ?'],
        [filter.startedLte, 'created_at <= ?'],
        [filter.finishedGte, 'completed_at >= ?'],
        [filter.finishedLte, 'completed_at <= ?'],
      ];
      for (const [value, clause] of range) {
        if (value === undefined) continue;
        where.push(clause);
        params.push(value);
      }
      const sql = where.join(' AND ');
      const rows = await db.all<EventRow>(
        `SELECT * FROM webhook_events WHERE ${sql} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
        [...params, page.size, (page.number - 1) * page.size],
      );
      const total = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM webhook_events WHERE ${sql}`,
        params,
      );
      return { items: rows.map(eventFromRow), total: Number(total?.n ?? 0) };
    },
    /** Puts a finished event back to pending with every URL live again, for a new delivery round. */
    async reopenEvent(id: string): Promise<boolean> {
      const event = await db.get<EventRow>('SELECT * FROM webhook_events WHERE id = ?', [id]);
      if (!event || event.status === 'pending') return false;
      const urls = eventFromRow(event).urls.map((u) => ({ url: u.url, gone: false }));
      const changed = await db.run(
        "UPDATE webhook_events SET status = 'pending', urls = ?, completed_at = NULL WHERE id = ? AND status <> 'pending'",
        [JSON.stringify(urls), id],
      );
      return changed > 0;
    },
  };
}
