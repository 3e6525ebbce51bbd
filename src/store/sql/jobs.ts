import type { JobRecord, NewJob } from '../records.ts';
import type { Dialect, SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

type JobRow = Omit<JobRecord, 'payload'> & { payload: string };

const fromRow = (r: JobRow): JobRecord => ({
  ...r,
  id: Number(r.id),
  run_at: Number(r.run_at),
  attempts: Number(r.attempts),
  locked_until: r.locked_until === null ? null : Number(r.locked_until),
  created_at: Number(r.created_at),
  payload: parseJson<Record<string, unknown>>(r.payload, {}),
});

/** Thrown when a worker finishes a job whose lease another worker has since taken. */
export class LeaseLostError extends Error {
  constructor(jobId: number) {
    super(`lease lost on job ${jobId}`);
  }
}

/** NOTIFY channel that tells idle workers on every node that a job was enqueued. */
export const WORK_CHANNEL = 'mms_gateway_jobs';

export function jobsRepo(db: SqlExecutor, dialect: Dialect) {
  // PostgreSQL: concurrent claimers skip each other's rows instead of waiting on them.
  const lockClause = dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
  const insertJob = `INSERT INTO jobs (queue, payload, run_at, attempts, created_at, unique_key)
    VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (unique_key) DO NOTHING`;
  // PostgreSQL: the NOTIFY that wakes idle workers rides on the insert (one round trip). It is
  // delivered when the enqueuing transaction commits, never for a rollback, once per transaction.
  const enqueueSql =
    dialect === 'postgres'
      ? `WITH queued AS (${insertJob} RETURNING id) SELECT pg_notify('${WORK_CHANNEL}', '') FROM queued`
      : insertJob;

  return {
    async enqueue(job: NewJob, now: number): Promise<void> {
      await db.run(enqueueSql, [
        job.queue,
        JSON.stringify(job.payload),
        job.runAt ?? now,
        now,
        job.uniqueKey ?? null,
      ]);
    },

    /**
     * Leases up to `limit` due jobs to `workerId`; each claim counts as an attempt. Leases that ran
     * out (their worker died or stalled) are handed back first, so those jobs are claimable again.
     */
    async claim(workerId: string, limit: number, leaseMs: number, now: number): Promise<JobRecord[]> {
      // Skipping rows another node holds: no waits, and no deadlock with a live owner extending them.
      await db.run(
        `UPDATE jobs SET locked_by = NULL, locked_until = NULL
         WHERE id IN (SELECT id FROM jobs WHERE locked_by IS NOT NULL AND locked_until < ? ${lockClause})`,
        [now],
      );
      const rows = await db.all<JobRow>(
        `UPDATE jobs SET locked_by = ?, locked_until = ?, attempts = attempts + 1
         WHERE id IN (
           SELECT id FROM jobs
           WHERE locked_by IS NULL AND run_at <= ?
           ORDER BY run_at, id LIMIT ? ${lockClause}
         )
         RETURNING *`,
        [workerId, now + leaseMs, now, limit],
      );
      return rows.map(fromRow);
    },

    /** Deletes a finished job; inside the transaction that records its result. */
    async complete(job: JobRecord, workerId: string): Promise<void> {
      const changed = await db.run('DELETE FROM jobs WHERE id = ? AND locked_by = ?', [job.id, workerId]);
      if (changed === 0) throw new LeaseLostError(job.id);
    },

    async retry(job: JobRecord, workerId: string, runAt: number, error: string): Promise<void> {
      const changed = await db.run(
        `UPDATE jobs SET run_at = ?, locked_by = NULL, locked_until = NULL, last_error = ?
         WHERE id = ? AND locked_by = ?`,
        [runAt, error.slice(0, 2000), job.id, workerId],
      );
      if (changed === 0) throw new LeaseLostError(job.id);
    },

    /** Keeps the leases of jobs this worker is still running; returns how many it still held. */
    async extendLeases(workerId: string, jobIds: number[], lockedUntil: number): Promise<number> {
      if (jobIds.length === 0) return 0;
      const placeholders = jobIds.map(() => '?').join(', ');
      return db.run(`UPDATE jobs SET locked_until = ? WHERE locked_by = ? AND id IN (${placeholders})`, [
        lockedUntil,
        workerId,
        ...jobIds,
      ]);
    },

    /** Hands back unfinished work at shutdown without counting it as an attempt. */
    async releaseAll(workerId: string): Promise<number> {
      return db.run(
        'UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = attempts - 1 WHERE locked_by = ?',
        [workerId],
      );
    },

    async nextRunAt(): Promise<number | null> {
      // Unleased jobs only (index-backed); jobs whose worker died are handed back by the next claim.
      const row = await db.get<{ t: number | string | null }>(
        'SELECT MIN(run_at) AS t FROM jobs WHERE locked_by IS NULL',
      );
      return row?.t == null ? null : Number(row.t);
    },

    /** Jobs of `queue` whose payload has `field` = `value` (a message's send job, for its retry state). */
    async findByPayload(queue: string, field: string, value: string): Promise<JobRecord[]> {
      const rows = await db.all<JobRow>('SELECT * FROM jobs WHERE queue = ? AND payload LIKE ?', [
        queue,
        `%${JSON.stringify(field)}:${JSON.stringify(value)}%`,
      ]);
      return rows.map(fromRow).filter((j) => j.payload[field] === value);
    },
    async count(queue?: string): Promise<number> {
      const row = queue
        ? await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM jobs WHERE queue = ?', [queue])
        : await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM jobs');
      return Number(row?.n ?? 0);
    },
  };
}
