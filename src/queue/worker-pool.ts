import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { JobRecord } from '../store/records.ts';
import { LeaseLostError } from '../store/sql/jobs.ts';
import type { Store } from '../store/store.ts';
import type { JobControl, JobHandler } from './job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from './retry-schedule.ts';

export interface WorkerPoolOptions {
  store: Store;
  handlers: JobHandler[];
  logger: Logger;
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  shutdownGraceMs: number;
  /** Used when a handler throws instead of deciding itself; exhausted → the job is dropped and logged. */
  crashSchedule: RetrySchedule;
}

export interface WorkerPool {
  readonly workerId: string;
  /** Tells an idle pool there may be work now (after a local enqueue, or a NOTIFY from another node). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Runs jobs from the database. Jobs are leased (`locked_by`, `locked_until`); a job whose worker
 * died is claimed again once its lease runs out. A handler finishes its job in the same transaction
 * as the job's results, so a crash between the two cannot lose or duplicate work.
 */
export function startWorkerPool(opts: WorkerPoolOptions): WorkerPool {
  const { store, logger } = opts;
  const workerId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const handlers = new Map(opts.handlers.map((h) => [h.queue, h]));
  const running = new Set<Promise<void>>();
  const runningIds = new Set<number>();
  let stopping = false;
  let wakeUp: (() => void) | null = null;
  let wakePending = false;

  const wake = () => {
    wakePending = true;
    wakeUp?.();
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (wakePending) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  function controlFor(job: JobRecord): JobControl {
    return {
      job,
      complete: (effects) =>
        store.transaction(async (tx) => {
          await effects?.(tx);
          await tx.jobs.complete(job, workerId);
        }),
      holdLease: async (tx) => {
        if ((await tx.jobs.extendLeases(workerId, [job.id], Date.now() + opts.leaseMs)) === 0) {
          throw new LeaseLostError(job.id);
        }
      },
      retryAt: (runAt, error, effects) =>
        store.transaction(async (tx) => {
          await effects?.(tx);
          await tx.jobs.retry(job, workerId, runAt, error);
        }),
    };
  }

  async function execute(job: JobRecord): Promise<void> {
    const handler = handlers.get(job.queue);
    try {
      if (!handler) throw new Error(`no handler for queue ${job.queue}`);
      await handler.run(controlFor(job));
    } catch (err) {
      if (err instanceof LeaseLostError) {
        logger.warn({ jobId: job.id, queue: job.queue }, 'job lease lost; another worker owns it now');
        return;
      }
      const delay = nextRetryDelay(opts.crashSchedule, job.attempts);
      logger.error({ err, jobId: job.id, queue: job.queue, attempts: job.attempts }, 'job failed');
      try {
        if (delay === null) {
          logger.error(
            { jobId: job.id, queue: job.queue, payload: job.payload },
            'job dropped after repeated failures',
          );
          await controlFor(job).complete();
        } else {
          await controlFor(job).retryAt(Date.now() + delay, String(err));
        }
      } catch (inner) {
        logger.error({ err: inner, jobId: job.id }, 'could not record job failure; its lease will expire');
      }
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      const free = opts.concurrency - running.size;
      let claimed: JobRecord[] = [];
      wakePending = false;
      if (free > 0) {
        try {
          claimed = await store.jobs.claim(workerId, free, opts.leaseMs, Date.now());
        } catch (err) {
          logger.error({ err }, 'claiming jobs failed');
        }
      }
      for (const job of claimed) {
        runningIds.add(job.id);
        const p = execute(job).finally(() => {
          running.delete(p);
          runningIds.delete(job.id);
          wake();
        });
        running.add(p);
      }
      if (claimed.length === 0 || running.size >= opts.concurrency) {
        await sleep(await untilNextDue());
      }
    }
  }

  async function untilNextDue(): Promise<number> {
    if (running.size >= opts.concurrency) return opts.pollMs;
    try {
      const next = await store.jobs.nextRunAt();
      if (next === null) return opts.pollMs;
      return Math.max(1, Math.min(opts.pollMs, next - Date.now()));
    } catch {
      return opts.pollMs;
    }
  }

  // A lease only has to outlive a dead worker, not a slow job: running jobs are renewed well before
  // their lease ends, so a busy node never loses work it is still doing to another node.
  const heartbeat = setInterval(
    () => {
      store.jobs.extendLeases(workerId, [...runningIds], Date.now() + opts.leaseMs).catch((err: unknown) => {
        logger.warn({ err }, 'renewing job leases failed');
      });
    },
    Math.max(50, Math.floor(opts.leaseMs / 3)),
  );
  heartbeat.unref();

  const looping = loop();

  return {
    workerId,
    wake,
    async stop() {
      stopping = true;
      wake();
      await looping;
      // Let running jobs finish for a while, then hand the rest back.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => {
          grace = setTimeout(resolve, opts.shutdownGraceMs);
        }),
      ]);
      clearTimeout(grace);
      clearInterval(heartbeat);
      const released = await store.jobs.releaseAll(workerId);
      if (released > 0) logger.info({ released }, 'released unfinished jobs');
    },
  };
}
