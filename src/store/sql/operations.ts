import { loadMigrations } from '../migrations/load-migrations.ts';
import type { Dialect, SqlExecutor } from './driver.ts';

export interface QueueStats {
  queue: string;
  depth: number;
  /** Jobs whose time has come (run_at in the past). */
  due: number;
  /** When the longest-waiting due job became due (ms since epoch), or null. */
  oldestDueAt: number | null;
}

/** What an operator's probes and Prometheus read: reachability, schema state and the queues. */
export function operationsRepo(db: SqlExecutor, dialect: Dialect) {
  return {
    /** True when every migration this build knows has been applied; throws when unreachable. */
    async migrated(): Promise<boolean> {
      const row = await db.get<{ v: number | string | null }>(
        'SELECT MAX(version) AS v FROM schema_migrations',
      );
      const latest = Math.max(0, ...loadMigrations(dialect).map((m) => m.version));
      return Number(row?.v ?? 0) >= latest;
    },
    async queueStats(now: number): Promise<QueueStats[]> {
      const rows = await db.all<{
        queue: string;
        depth: number | string;
        due: number | string;
        oldest: number | string | null;
      }>(
        `SELECT queue, COUNT(*) AS depth,
           SUM(CASE WHEN run_at <= ? THEN 1 ELSE 0 END) AS due,
           MIN(CASE WHEN run_at <= ? THEN run_at END) AS oldest
         FROM jobs GROUP BY queue`,
        [now, now],
      );
      return rows.map((r) => ({
        queue: r.queue,
        depth: Number(r.depth),
        due: Number(r.due),
        oldestDueAt: r.oldest === null ? null : Number(r.oldest),
      }));
    },
  };
}
