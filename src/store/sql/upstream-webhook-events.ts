import type { SqlExecutor } from './driver.ts';

/** Upstream webhook ids already applied, per connector (see migration 013). */
export function upstreamWebhookEventsRepo(db: SqlExecutor) {
  return {
    /** Records the event as applied; false when it was already (a replay). */
    async claim(e: { connector: string; eventId: string; eventType: string; receivedAt: string }) {
      const changed = await db.run(
        `INSERT INTO upstream_webhook_events (connector, event_id, event_type, received_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (connector, event_id) DO NOTHING`,
        [e.connector, e.eventId, e.eventType, e.receivedAt],
      );
      return changed > 0;
    },
    async has(connector: string, eventId: string): Promise<boolean> {
      const row = await db.get(
        'SELECT 1 AS one FROM upstream_webhook_events WHERE connector = ? AND event_id = ?',
        [connector, eventId],
      );
      return row !== undefined;
    },
    async count(connector: string): Promise<number> {
      const row = await db.get<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM upstream_webhook_events WHERE connector = ?',
        [connector],
      );
      return Number(row?.n ?? 0);
    },
  };
}
