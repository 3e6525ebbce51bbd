/**
 * Pieces for the end-to-end crash test, the cluster test and the benchmarks (their webhook receiver
 * is ./webhook-receiver.ts): test message bodies, a small HTTP client for the group MMS API, polling,
 * freezing a process, and read-only access to a gateway's database (SQLite or PostgreSQL).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Agent, request } from 'undici';
import { testDatabaseUrl } from './gateway.ts';

/** The body of the `i`th test message: a sandbox sender and three ordinary (always delivered) numbers. */
export function groupMmsBody(i: number, webhookUrl: string, senders: string[]): Record<string, unknown> {
  // +1312555 2000…8999: outside the simulator's scripted 555-01XX range, so every one is delivered.
  const to = [0, 1, 2].map((k) => `+1312555${String(2000 + ((i * 3 + k) % 7000))}`);
  return {
    from: senders[i % senders.length],
    to,
    text: `crash/bench message ${i}`,
    webhook_url: webhookUrl,
    use_profile_webhooks: false,
  };
}

export type SendOutcome = { ok: true; id: string } | { ok: false; status: number | null; error: string };

export interface ApiClient {
  /** POST /v2/messages/group_mms; never throws (a cut connection is `status: null`). */
  sendGroupMms(baseUrl: string, apiKey: string, body: Record<string, unknown>): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** A keep-alive client for the group MMS API. */
export function createApiClient(opts: { connections?: number } = {}): ApiClient {
  const agent = new Agent({
    connections: opts.connections ?? 64,
    keepAliveTimeout: 30_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });

  return {
    async sendGroupMms(baseUrl, apiKey, body) {
      try {
        const res = await request(`${baseUrl}/v2/messages/group_mms`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await res.body.text();
        let id: unknown;
        try {
          id = (JSON.parse(text) as { data?: { id?: unknown } }).data?.id;
        } catch {
          id = undefined;
        }
        if (res.statusCode !== 200 || typeof id !== 'string') {
          return { ok: false, status: res.statusCode, error: text.slice(0, 500) };
        }
        return { ok: true, id };
      } catch (err) {
        return { ok: false, status: null, error: err instanceof Error ? err.message : String(err) };
      }
    },
    close: () => agent.close(),
  };
}

/** Polls `check` until it returns true; throws with `describe()` after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms: ${opts.describe()}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

export interface RecipientRow {
  id: string;
  message_id: string;
  status: string;
  carrier_message_id: string | null;
  sent_at: string | null;
  completed_at: string | null;
}

export interface SubmissionRow {
  idempotency_key: string;
  recipient_id: string;
  carrier_message_id: string;
  times_seen: number;
  created_at: string;
}

/** Process state letter from /proc (Linux): 'T' when stopped. */
function procState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/**
 * SIGSTOPs a process and resolves once the kernel reports it stopped, so that what it has committed
 * can be read while it cannot commit more. Resolves false if it could not be seen stopped.
 */
export async function freeze(child: ChildProcess): Promise<boolean> {
  if (child.pid === undefined || !child.kill('SIGSTOP')) return false;
  for (let i = 0; i < 200; i++) {
    const state = procState(child.pid);
    if (state === 'T' || state === 't') return true;
    if (state === null || state === 'Z') return false;
    await new Promise((r) => setImmediate(r));
  }
  return false;
}

export function thaw(child: ChildProcess): void {
  child.kill('SIGCONT');
}

/** Read-only questions about a gateway's database, answered the same on SQLite and PostgreSQL. */
export interface GatewayDbReader {
  jobCount(): Promise<number>;
  /** Jobs a worker held a lease on at `at` (ms): the ones it was running then. */
  leasedJobs(at: number): Promise<number>;
  /**
   * Recipients the simulator has a submission for while the gateway still has them `sending`: their
   * submit went out but its answer is not recorded. A crash now means they are submitted again.
   */
  submittedButUnrecorded(): Promise<Array<{ recipientId: string; timesSeen: number }>>;
  jobsByQueue(): Promise<Record<string, number>>;
  /** The payloads of the jobs on `queue`, parsed. */
  jobPayloads(queue: string): Promise<unknown[]>;
  recipients(): Promise<RecipientRow[]>;
  messageIds(): Promise<string[]>;
  submissions(): Promise<SubmissionRow[]>;
  close(): Promise<void>;
}

const READER_SQL = {
  jobCount: 'SELECT COUNT(*) AS n FROM jobs',
  leasedJobs: 'SELECT COUNT(*) AS n FROM jobs WHERE locked_until > ?',
  submittedButUnrecorded: `SELECT r.id AS "recipientId", s.times_seen AS "timesSeen" FROM message_recipients r
    JOIN simulator_submissions s ON s.idempotency_key = r.message_id AND s.recipient_id = r.id
    WHERE r.status = 'sending'`,
  jobsByQueue: 'SELECT queue, COUNT(*) AS n FROM jobs GROUP BY queue',
  jobPayloads: 'SELECT payload FROM jobs WHERE queue = ?',
  recipients:
    'SELECT id, message_id, status, carrier_message_id, sent_at, completed_at FROM message_recipients',
  messageIds: 'SELECT id FROM messages',
  submissions:
    'SELECT idempotency_key, recipient_id, carrier_message_id, times_seen, created_at FROM simulator_submissions',
} as const;

type Query = (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>;

function readerOver(query: Query, close: () => Promise<void>): GatewayDbReader {
  // COUNT(*) is a bigint, which pg hands back as a string.
  const count = async (sql: string, params?: unknown[]) => Number((await query(sql, params))[0]!.n);
  return {
    jobCount: () => count(READER_SQL.jobCount),
    leasedJobs: (at) => count(READER_SQL.leasedJobs, [at]),
    submittedButUnrecorded: async () =>
      (await query(READER_SQL.submittedButUnrecorded)).map((r) => ({
        recipientId: String(r.recipientId),
        timesSeen: Number(r.timesSeen),
      })),
    jobsByQueue: async () =>
      Object.fromEntries((await query(READER_SQL.jobsByQueue)).map((r) => [String(r.queue), Number(r.n)])),
    jobPayloads: async (queue) =>
      (await query(READER_SQL.jobPayloads, [queue])).map((r) => JSON.parse(String(r.payload)) as unknown),
    recipients: async () => (await query(READER_SQL.recipients)) as unknown as RecipientRow[],
    messageIds: async () => (await query(READER_SQL.messageIds)).map((r) => String(r.id)),
    submissions: async () =>
      (await query(READER_SQL.submissions)).map((r) => ({
        ...r,
        times_seen: Number(r.times_seen),
      })) as unknown as SubmissionRow[],
    close,
  };
}

/**
 * Read-only access to the database of the gateways on `dataDir`, safe while they run: their SQLite
 * file (WAL readers don't block the writer) or, under TEST_STORE=postgres, their PostgreSQL database
 * over a connection of its own. `busyTimeoutMs` bounds how long one question may wait on a lock.
 */
export async function openGatewayDb(
  dataDir: string,
  opts: { busyTimeoutMs?: number } = {},
): Promise<GatewayDbReader> {
  const timeoutMs = opts.busyTimeoutMs ?? 5000;
  const url = await testDatabaseUrl(dataDir);
  if (url) {
    const client = new pg.Client({ connectionString: url, statement_timeout: timeoutMs });
    await client.connect();
    return readerOver(
      async (sql, params = []) => {
        let n = 0;
        const text = sql.replace(/\?/g, () => `$${++n}`);
        return (await client.query(text, params)).rows as Array<Record<string, unknown>>;
      },
      () => client.end(),
    );
  }
  const db = new Database(path.join(dataDir, 'gateway.sqlite'), { readonly: true, fileMustExist: true });
  db.pragma(`busy_timeout = ${timeoutMs}`);
  return readerOver(
    async (sql, params = []) => db.prepare(sql).all(...params) as Array<Record<string, unknown>>,
    async () => {
      db.close();
    },
  );
}

/** Nearest-rank percentile of an ascending-sorted list. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
