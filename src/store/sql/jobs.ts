import type { JobRecord, NewJob } from '../records.ts';
import type { Dialect, SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

type JobRow = Omit<JobRecord, 'payload'> & { payload: string };

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const fromRow = (r: JobRow): JobRecord => ({
  ...r,
  id: Number(r.id),
  run_at: Number(r.run_at),
  attempts: Number(r.attempts),
  retries: Number(r.retries),
  crashes: Number(r.crashes),
  locked_until: num(r.locked_until),
  failed_at: num(r.failed_at),
  created_at: Number(r.created_at),
  fair_key: r.fair_key ?? null,
  payload: parseJson<Record<string, unknown>>(r.payload, {}),
});

/**
 * Hands each job inserted leased to its inserter the `fresh` rows of the NewJob it came from (by
 * queue and payload as inserted: the rows come back in no promised order).
 */
function withFresh(
  jobs: readonly NewJob[],
  payloads: readonly string[],
  rows: readonly JobRow[],
  inserted: JobRecord[],
): void {
  const byPayload = new Map(jobs.map((j, i) => [`${j.queue} ${payloads[i]}`, j.fresh]));
  rows.forEach((r, i) => {
    const fresh = byPayload.get(`${r.queue} ${r.payload}`);
    if (fresh !== undefined) inserted[i]!.fresh = fresh;
  });
}

/** Thrown when a worker finishes a job whose lease another worker has since taken. */
export class LeaseLostError extends Error {
  constructor(jobId: number) {
    super(`lease lost on job ${jobId}`);
  }
}

/**
 * NOTIFY channel that tells idle workers on every node that a job was enqueued. The payload is its
 * queue, followed by a space and its fair key when it has one (`workNews` reads it back).
 */
export const WORK_CHANNEL = 'mms_gateway_jobs';

/** The queue and fair key a work NOTIFY names (either may be unknown). */
export function workNews(payload: string): { queue?: string; fairKey?: string } {
  if (payload === '') return {};
  const space = payload.indexOf(' ');
  return space < 0
    ? { queue: payload }
    : { queue: payload.slice(0, space), fairKey: payload.slice(space + 1) };
}

/** Which retry policy a rescheduled run counts against; `wait` counts against none (its turn comes later). */
export type RetryKind = 'retry' | 'crash' | 'wait';

export interface ClaimOptions {
  /** Only this queue (each queue has its own capacity in the worker pool). */
  queue?: string;
  /** Skip the jobs of these fair keys (organizations already holding their share of the queue). */
  excludeFairKeys?: readonly string[];
  /** Also hand back leases that ran out first (default true). A pool does that on its heartbeat. */
  reclaimExpired?: boolean;
}

export interface EnqueueManyOptions {
  /** Insert the jobs already leased to this worker: it runs them at once, without a claim. */
  leasedTo?: string;
  leaseMs?: number;
}

/**
 * The store's clock for job times. Every method takes an optional `now`: given, it is used as is
 * (tests, a single SQLite node); omitted, PostgreSQL reads its own clock, so that nodes whose clocks
 * disagree still agree on leases and due times, and SQLite reads this process's clock.
 */
const PG_CLOCK = '(floor(extract(epoch from clock_timestamp()) * 1000))::bigint';

export function jobsRepo(db: SqlExecutor, dialect: Dialect) {
  const pg = dialect === 'postgres';
  // PostgreSQL: concurrent claimers skip each other's rows instead of waiting on them.
  const lockClause = pg ? 'FOR UPDATE SKIP LOCKED' : '';
  // PostgreSQL: batch completions lock their rows in id order, so two never deadlock; renewals skip
  // locked rows instead of waiting behind a batch.
  const inIdOrder = pg ? 'ORDER BY id FOR UPDATE' : '';
  const NOW = pg ? `COALESCE(CAST(? AS BIGINT), ${PG_CLOCK})` : 'CAST(? AS INTEGER)';
  const clock = (now?: number) => now ?? (pg ? null : Date.now());
  /** A list parameter: a PostgreSQL array, or JSON read through json_each on SQLite. */
  const list = (values: readonly unknown[]) => (pg ? values : JSON.stringify(values));
  const inList = (column: string, type: 'BIGINT' | 'TEXT') =>
    pg ? `${column} = ANY(CAST(? AS ${type}[]))` : `${column} IN (SELECT value FROM json_each(?))`;
  const delayOf = (runAt: number | undefined, now?: number) =>
    runAt === undefined ? 0 : runAt - (now ?? Date.now());

  const insertJob = `INSERT INTO jobs (queue, payload, run_at, attempts, created_at, unique_key, fair_key)
    VALUES (?, ?, ${NOW} + ?, 0, ${NOW}, ?, ?) ON CONFLICT (unique_key) DO NOTHING`;
  // PostgreSQL: the NOTIFY that wakes idle workers rides on the insert (one round trip). It is
  // delivered when the enqueuing transaction commits, never for a rollback, once per transaction,
  // and only for work due now: workers find later work through their timers.
  const enqueueSql = pg
    ? `WITH queued AS (${insertJob} RETURNING id)
       SELECT pg_notify('${WORK_CHANNEL}', CAST(? AS TEXT)) FROM queued WHERE CAST(? AS BIGINT) <= 0`
    : insertJob;

  // Many jobs in one statement; PostgreSQL sends one NOTIFY for the batch (and none when every job
  // is leased to the worker that inserted it).
  const insertManySql = pg
    ? `WITH input AS (
         SELECT * FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS TEXT[]),
           CAST(? AS TEXT[])) AS t(queue, payload, delay, unique_key, fair_key)
       ), clock AS (SELECT ${NOW} AS now, CAST(? AS TEXT) AS owner, CAST(? AS BIGINT) AS lease_ms),
       ins AS (
         INSERT INTO jobs (queue, payload, run_at, attempts, created_at, unique_key, fair_key, locked_by, locked_until)
         SELECT i.queue, i.payload, c.now + i.delay, CASE WHEN c.owner IS NULL THEN 0 ELSE 1 END, c.now,
           i.unique_key, i.fair_key, c.owner, c.now + c.lease_ms
         FROM input i CROSS JOIN clock c
         ON CONFLICT (unique_key) DO NOTHING RETURNING *
       ), wake AS (
         SELECT count(pg_notify('${WORK_CHANNEL}', q)) AS n
         FROM (SELECT DISTINCT queue || COALESCE(' ' || fair_key, '') AS q FROM ins WHERE locked_by IS NULL) queued
       )
       SELECT ins.* FROM ins LEFT JOIN wake ON true`
    : `INSERT INTO jobs (queue, payload, run_at, attempts, created_at, unique_key, fair_key, locked_by, locked_until)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), c.now + json_extract(value, '$[2]'),
         CASE WHEN c.owner IS NULL THEN 0 ELSE 1 END, c.now, json_extract(value, '$[3]'),
         json_extract(value, '$[4]'), c.owner, c.now + c.lease_ms
       FROM json_each(?), (SELECT CAST(? AS INTEGER) AS now, ? AS owner, ? AS lease_ms) c
       WHERE true ON CONFLICT (unique_key) DO NOTHING RETURNING *`;

  const reclaimSql = `UPDATE jobs SET locked_by = NULL, locked_until = NULL, crashes = crashes + 1,
      last_error = 'lease expired: its worker stopped or stalled'
    WHERE id IN (SELECT id FROM jobs WHERE locked_by IS NOT NULL AND locked_until < ${NOW} ${lockClause})`;

  const claimSql = (
    queue: boolean,
  ) => `UPDATE jobs SET locked_by = ?, locked_until = ${NOW} + ?, attempts = attempts + 1
    WHERE id IN (
      SELECT id FROM jobs
      WHERE locked_by IS NULL AND failed_at IS NULL AND run_at <= ${NOW} ${queue ? 'AND queue = ?' : ''}
        AND (fair_key IS NULL OR NOT (${inList('fair_key', 'TEXT')}))
      ORDER BY run_at, id LIMIT ? ${lockClause}
    )
    RETURNING *`;
  const claimAnySql = claimSql(false);
  const claimQueueSql = claimSql(true);

  /**
   * A queue's claim that leaves out organizations at their share reads only the other
   * organizations' due jobs: one index range per gap between the left-out keys (and one for jobs
   * without a key), merged by due time. Filtering the queue's due jobs instead reads the whole
   * backlog of the left-out organization at every claim, only to find nothing when it is alone.
   */
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const collate = pg ? ' COLLATE "C"' : '';
  const claimOthersSql = new Map<number, string>();
  const claimOthers = (excluded: number) => {
    let sql = claimOthersSql.get(excluded);
    if (sql === undefined) {
      const due = `SELECT id, run_at FROM jobs WHERE queue = ? AND locked_by IS NULL AND failed_at IS NULL AND run_at <= ${NOW}`;
      const key = `fair_key${collate}`;
      const ranges = [`${due} AND fair_key IS NULL`, `${due} AND ${key} < ?`];
      for (let i = 1; i < excluded; i++) ranges.push(`${due} AND ${key} > ? AND ${key} < ?`);
      ranges.push(`${due} AND ${key} > ?`);
      const others = `SELECT id FROM (${ranges.join(' UNION ALL ')}) AS others ORDER BY run_at, id LIMIT ?`;
      // PostgreSQL cannot lock rows of a UNION: the candidates are locked (skipping taken ones) and
      // checked again in an outer select.
      const candidates = pg
        ? `SELECT id FROM jobs WHERE id IN (${others}) AND locked_by IS NULL AND failed_at IS NULL
             ORDER BY run_at, id ${lockClause}`
        : others;
      sql = `UPDATE jobs SET locked_by = ?, locked_until = ${NOW} + ?, attempts = attempts + 1
        WHERE id IN (${candidates}) RETURNING *`;
      claimOthersSql.set(excluded, sql);
    }
    return sql;
  };
  const claimOthersParams = (
    workerId: string,
    t: number | null,
    leaseMs: number,
    queue: string,
    keys: string[],
    limit: number,
  ) => {
    const sorted = [...new Set(keys)].sort(byteOrder);
    const bounds: unknown[][] = [[], [sorted[0]]];
    for (let i = 1; i < sorted.length; i++) bounds.push([sorted[i - 1], sorted[i]]);
    bounds.push([sorted.at(-1)]);
    return {
      sql: claimOthers(sorted.length),
      params: [workerId, t, leaseMs, ...bounds.flatMap((b) => [queue, t, ...b]), limit],
    };
  };

  /**
   * Hands back jobs whose lease ran out (their worker died or stalled); each counts as a crash.
   * Rows a live owner is renewing right now are skipped (PostgreSQL), never waited on.
   */
  const reclaimExpired = (now?: number): Promise<number> => db.run(reclaimSql, [clock(now)]);

  return {
    reclaimExpired,

    /** One job. `job.runAt` is read on the caller's clock (`now`, or this process's). */
    async enqueue(job: NewJob, now?: number): Promise<void> {
      const delay = job.delayMs ?? delayOf(job.runAt, now);
      const params = [
        job.queue,
        JSON.stringify(job.payload),
        clock(now),
        delay,
        clock(now),
        job.uniqueKey ?? null,
        job.fairKey ?? null,
      ];
      const news = job.fairKey ? `${job.queue} ${job.fairKey}` : job.queue;
      await db.run(enqueueSql, pg ? [...params, news, delay] : params);
    },

    /**
     * Many jobs in one statement. With `leasedTo`, they are inserted already leased to that worker,
     * which runs them without claiming them; they return to the queue only if its lease runs out.
     * Returns the jobs inserted (a unique key already present inserts nothing).
     */
    async enqueueMany(
      jobs: readonly NewJob[],
      opts: EnqueueManyOptions = {},
      now?: number,
    ): Promise<JobRecord[]> {
      if (jobs.length === 0) return [];
      const owner = opts.leasedTo ?? null;
      const leaseMs = owner === null ? null : (opts.leaseMs ?? 60_000);
      const delays = jobs.map((j) => j.delayMs ?? delayOf(j.runAt, now));
      const payloads = jobs.map((j) => JSON.stringify(j.payload));
      const rows = pg
        ? await db.all<JobRow>(insertManySql, [
            jobs.map((j) => j.queue),
            payloads,
            delays,
            jobs.map((j) => j.uniqueKey ?? null),
            jobs.map((j) => j.fairKey ?? null),
            clock(now),
            owner,
            leaseMs,
          ])
        : await db.all<JobRow>(insertManySql, [
            JSON.stringify(
              jobs.map((j, i) => [j.queue, payloads[i], delays[i], j.uniqueKey ?? null, j.fairKey ?? null]),
            ),
            clock(now),
            owner,
            leaseMs,
          ]);
      const inserted = rows.map(fromRow);
      if (owner !== null && jobs.some((j) => j.fresh !== undefined))
        withFresh(jobs, payloads, rows, inserted);
      return inserted;
    },

    /**
     * Leases up to `limit` due jobs to `workerId`, in one statement; each claim counts as a run
     * (`attempts`). Unless told otherwise, leases that ran out are handed back first.
     */
    async claim(
      workerId: string,
      limit: number,
      leaseMs: number,
      now?: number,
      opts: ClaimOptions = {},
    ): Promise<JobRecord[]> {
      if (opts.reclaimExpired !== false) await reclaimExpired(now);
      const t = clock(now);
      if (opts.queue && (opts.excludeFairKeys?.length ?? 0) > 0) {
        const { sql, params } = claimOthersParams(
          workerId,
          t,
          leaseMs,
          opts.queue,
          [...opts.excludeFairKeys!],
          limit,
        );
        return (await db.all<JobRow>(sql, params)).map(fromRow);
      }
      const exclude = list(opts.excludeFairKeys ?? []);
      const rows = opts.queue
        ? await db.all<JobRow>(claimQueueSql, [workerId, t, leaseMs, t, opts.queue, exclude, limit])
        : await db.all<JobRow>(claimAnySql, [workerId, t, leaseMs, t, exclude, limit]);
      return rows.map(fromRow);
    },

    /** Deletes a finished job; inside the transaction that records its result. */
    async complete(job: JobRecord, workerId: string): Promise<void> {
      const changed = await db.run('DELETE FROM jobs WHERE id = ? AND locked_by = ?', [job.id, workerId]);
      if (changed === 0) throw new LeaseLostError(job.id);
    },

    /**
     * Deletes every finished job of a batch that `workerId` still holds, in one statement, and
     * returns their ids; the others were taken by another worker. Inside the batch's transaction,
     * before its effects: the deleted rows stay locked until it commits.
     */
    async completeMany(ids: readonly number[], workerId: string): Promise<Set<number>> {
      if (ids.length === 0) return new Set();
      const rows = await db.all<{ id: number | string }>(
        `DELETE FROM jobs WHERE id IN (
           SELECT id FROM jobs WHERE locked_by = ? AND ${inList('id', 'BIGINT')} ${inIdOrder}
         ) RETURNING id`,
        [workerId, list(ids)],
      );
      return new Set(rows.map((r) => Number(r.id)));
    },

    /**
     * Runs the job again at `runAt` (on the caller's clock, `now` or this process's), counting one
     * more `retries` (the handler's own schedule) or `crashes` (a throw or a timeout).
     */
    async retry(
      job: JobRecord,
      workerId: string,
      runAt: number,
      error: string,
      opts: { kind?: RetryKind; now?: number } = {},
    ): Promise<void> {
      const counter = opts.kind === 'crash' ? 'crashes' : 'retries';
      // A wait is not a run: the attempt it used is handed back, the error and counters are kept.
      const changes =
        opts.kind === 'wait' ? 'attempts = attempts - 1' : `last_error = ?, ${counter} = ${counter} + 1`;
      const changed = await db.run(
        `UPDATE jobs SET run_at = ${NOW} + ?, locked_by = NULL, locked_until = NULL, ${changes}
         WHERE id = ? AND locked_by = ?`,
        [
          clock(opts.now),
          delayOf(runAt, opts.now),
          ...(opts.kind === 'wait' ? [] : [error.slice(0, 2000)]),
          job.id,
          workerId,
        ],
      );
      if (changed === 0) throw new LeaseLostError(job.id);
    },

    /** Gives the job up: it is kept with its last error for the operator and never runs again. */
    async fail(job: JobRecord, workerId: string, error: string, now?: number): Promise<void> {
      const changed = await db.run(
        `UPDATE jobs SET failed_at = ${NOW}, locked_by = NULL, locked_until = NULL, last_error = ?
         WHERE id = ? AND locked_by = ?`,
        [clock(now), error.slice(0, 2000), job.id, workerId],
      );
      if (changed === 0) throw new LeaseLostError(job.id);
    },

    /**
     * Renews, in one statement, the leases of the jobs this worker still runs or holds; returns the
     * ids it still held (a missing id was taken by another worker).
     */
    async extendLeases(
      workerId: string,
      jobIds: readonly number[],
      leaseMs: number,
      now?: number,
    ): Promise<Set<number>> {
      if (jobIds.length === 0) return new Set();
      const rows = await db.all<{ id: number | string }>(
        `UPDATE jobs SET locked_until = ${NOW} + ? WHERE id IN (
           SELECT id FROM jobs WHERE locked_by = ? AND ${inList('id', 'BIGINT')} ${lockClause}
         ) RETURNING id`,
        [clock(now), leaseMs, workerId, list(jobIds)],
      );
      const renewed = new Set(rows.map((r) => Number(r.id)));
      if (renewed.size === jobIds.length || !pg) return renewed;
      // Rows skipped because one of our own transactions holds them (a batch completing them, a
      // handler holding its lease) are still ours: a renewal never waits behind a long batch.
      const still = await db.all<{ id: number | string }>(
        `SELECT id FROM jobs WHERE locked_by = ? AND ${inList('id', 'BIGINT')}`,
        [workerId, list(jobIds.filter((id) => !renewed.has(id)))],
      );
      for (const r of still) renewed.add(Number(r.id));
      return renewed;
    },

    /** Hands back unfinished work at shutdown without counting it as a run. */
    async releaseAll(workerId: string): Promise<number> {
      return db.run(
        'UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = attempts - 1 WHERE locked_by = ?',
        [workerId],
      );
    },

    /** When the next unleased job is due, on the store's clock. */
    async nextRunAt(): Promise<number | null> {
      const row = await db.get<{ t: number | string | null }>(
        'SELECT MIN(run_at) AS t FROM jobs WHERE locked_by IS NULL AND failed_at IS NULL',
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
    /** Milliseconds until the next unleased job of these queues is due (≤ 0: due now), or null. */
    async msUntilDue(queues: readonly string[], now?: number): Promise<number | null> {
      const row = await db.get<{ t: number | string | null }>(
        `SELECT MIN(run_at) - ${NOW} AS t FROM jobs
         WHERE locked_by IS NULL AND failed_at IS NULL AND ${inList('queue', 'TEXT')}`,
        [clock(now), list(queues)],
      );
      return row?.t == null ? null : Number(row.t);
    },

    /** Live jobs (given-up ones are not counted). */
    async count(queue?: string): Promise<number> {
      const row = queue
        ? await db.get<{ n: number | string }>(
            'SELECT COUNT(*) AS n FROM jobs WHERE queue = ? AND failed_at IS NULL',
            [queue],
          )
        : await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM jobs WHERE failed_at IS NULL');
      return Number(row?.n ?? 0);
    },

    /** Jobs given up, newest first, with their last error: for the operator. */
    async failed(queue?: string, limit = 100): Promise<JobRecord[]> {
      const rows = queue
        ? await db.all<JobRow>(
            'SELECT * FROM jobs WHERE failed_at IS NOT NULL AND queue = ? ORDER BY failed_at DESC, id DESC LIMIT ?',
            [queue, limit],
          )
        : await db.all<JobRow>(
            'SELECT * FROM jobs WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, id DESC LIMIT ?',
            [limit],
          );
      return rows.map(fromRow);
    },

    /** A job by id, live or given up. */
    async get(id: number): Promise<JobRecord | undefined> {
      const row = await db.get<JobRow>('SELECT * FROM jobs WHERE id = ?', [id]);
      return row ? fromRow(row) : undefined;
    },
  };
}
