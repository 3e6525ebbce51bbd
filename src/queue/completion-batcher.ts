import type { JobRecord, NewJob, WebhookAttemptRecord, WebhookEventRecord } from '../store/records.ts';
import { LeaseLostError } from '../store/sql/jobs.ts';
import type { WebhookEventUpdate } from '../store/sql/webhooks.ts';
import type { Repos, Store } from '../store/store.ts';

export interface CompletionBatcherOptions {
  store: Store;
  workerId: string;
  /** Flush when this many completions wait… */
  maxSize: number;
  /** …or when the oldest has waited this long. */
  maxDelayMs: number;
  /**
   * Batches committing at once (default 1). Each runs its jobs' effects one after another on one
   * connection; on PostgreSQL several connections can commit batches side by side.
   */
  maxInFlight?: number;
  /**
   * Which of a batch's new jobs this worker takes at once (inserted leased to it, no claim); the
   * others are queued for any worker. Called inside the flush.
   */
  takeLocally(jobs: readonly NewJob[]): NewJob[];
  leaseMs: number;
  /** Jobs inserted leased to this worker, after their batch committed. */
  onLeased(jobs: JobRecord[]): void;
  /** Jobs inserted for any worker (this one too: SQLite has no NOTIFY), after their batch committed. */
  onQueued?(jobs: readonly NewJob[]): void;
}

interface Waiting {
  job: JobRecord;
  effects?: (tx: Repos) => Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Batched completions (River's job completer, graphile-worker's completeJobs): finished jobs wait in
 * memory and are committed together, in one transaction that deletes them with one statement, runs
 * each job's effects, and inserts every job those effects enqueue with one statement (one NOTIFY).
 * A job whose lease another worker took is left out of its batch, effects and all. If the batch
 * fails, each of its jobs is completed on its own, so one bad job cannot fail the others.
 */
export function createCompletionBatcher(opts: CompletionBatcherOptions) {
  const waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | null = null;
  let immediate = false;
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = opts.maxInFlight ?? 1;

  async function commit(batch: Waiting[]): Promise<void> {
    const leased = await opts.store.transaction(async (tx) => {
      const held = await tx.jobs.completeMany(
        batch.map((w) => w.job.id),
        opts.workerId,
      );
      const children: NewJob[] = [];
      const gathered = gatheredWrites(tx, children);
      for (const w of batch) if (held.has(w.job.id)) await w.effects?.(gathered.repos);
      await gathered.write();
      const local = opts.takeLocally(children);
      const shared = children.filter((c) => !local.includes(c));
      await tx.jobs.enqueueMany(shared);
      const mine = await tx.jobs.enqueueMany(local, { leasedTo: opts.workerId, leaseMs: opts.leaseMs });
      return { held, mine, shared };
    });
    for (const w of batch) {
      if (leased.held.has(w.job.id)) w.resolve();
      else w.reject(new LeaseLostError(w.job.id));
    }
    if (leased.mine.length > 0) opts.onLeased(leased.mine);
    if (leased.shared.length > 0) opts.onQueued?.(leased.shared);
  }

  async function flush(batch: Waiting[]): Promise<void> {
    try {
      await commit(batch);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      for (const w of batch) await commit([w]).catch((e: unknown) => w.reject(e));
    }
  }

  /** Starts a batch now if a slot is free; a batch that ends starts the next one if any wait. */
  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (waiting.length === 0 || inFlight.size >= maxInFlight) return;
    const batch = waiting.splice(0, opts.maxSize);
    const run = flush(batch).finally(() => {
      inFlight.delete(run);
      if (waiting.length > 0) schedule();
    });
    inFlight.add(run);
  }

  return {
    /** Resolves once the job's completion is committed; LeaseLostError if another worker has it. */
    complete(job: JobRecord, effects?: (tx: Repos) => Promise<void>): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ job, effects, resolve, reject });
        if (immediate || waiting.length >= opts.maxSize) schedule();
        else timer ??= setTimeout(schedule, opts.maxDelayMs);
      });
    },
    /** Commits everything waiting, and from now on each completion at once (at shutdown). */
    async drain(): Promise<void> {
      immediate = true;
      schedule();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    get waiting(): number {
      return waiting.length;
    },
  };
}

/**
 * The transaction's repositories, with the writes that the effects of many jobs repeat gathered and
 * made with one statement each once every effect has run: the jobs they enqueue (into `children`,
 * inserted by the batch), the webhook events they record, the webhook rounds (attempts and event
 * states), and the connector each message went out by. Nothing in a batch reads those rows back, so writing them at the end changes no effect's
 * outcome.
 */
function gatheredWrites(tx: Repos, children: NewJob[]): { repos: Repos; write(): Promise<void> } {
  const newEvents: WebhookEventRecord[] = [];
  const attempts: Array<Omit<WebhookAttemptRecord, 'id'>> = [];
  const events: WebhookEventUpdate[] = [];
  const jobs = { ...tx.jobs, enqueue: async (job: NewJob) => void children.push(job) };
  const webhooks = {
    ...tx.webhooks,
    insertEvent: async (e: WebhookEventRecord) => void newEvents.push(e),
    insertEvents: async (rows: readonly WebhookEventRecord[]) => void newEvents.push(...rows),
    insertAttempt: async (a: Omit<WebhookAttemptRecord, 'id'>) => void attempts.push(a),
    insertAttempts: async (rows: readonly Omit<WebhookAttemptRecord, 'id'>[]) => void attempts.push(...rows),
    updateEvent: async (id: string, fields: WebhookEventUpdate['fields']) => void events.push({ id, fields }),
  };
  const connectors: Array<{ messageId: string; connector: string }> = [];
  const breakers = {
    ...tx.breakers,
    recordMessageConnector: async (messageId: string, connector: string) =>
      void connectors.push({ messageId, connector }),
  };
  const replaced: Partial<Repos> = { jobs, webhooks, breakers };
  return {
    repos: new Proxy(tx, {
      get: (target, key) => replaced[key as keyof Repos] ?? target[key as keyof Repos],
    }),
    async write() {
      await tx.webhooks.insertEvents(newEvents);
      await tx.webhooks.insertAttempts(attempts);
      await tx.webhooks.updateEvents(events);
      await tx.breakers.recordMessageConnectors(connectors);
    },
  };
}
