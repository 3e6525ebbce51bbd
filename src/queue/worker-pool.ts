import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { JobRecord, NewJob } from '../store/records.ts';
import { LeaseLostError } from '../store/sql/jobs.ts';
import type { Store } from '../store/store.ts';
import { createCompletionBatcher } from './completion-batcher.ts';
import type { JobControl, JobHandler } from './job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from './retry-schedule.ts';

export interface WorkerPoolOptions {
  store: Store;
  handlers: JobHandler[];
  logger: Logger;
  /** Slots of each queue (a queue has its own, so slow webhooks never take the carrier submits'). */
  concurrency: number;
  /** Per-queue slots overriding `concurrency`. */
  queueConcurrency?: Readonly<Record<string, number>>;
  /**
   * Share of a queue's slots that one organization may hold (default three quarters): the rest is
   * always there for the others, however many of its jobs hang.
   */
  fairShare?: number;
  pollMs: number;
  leaseMs: number;
  shutdownGraceMs: number;
  /** A handler still running after this long is aborted and counted as a crash. */
  jobTimeoutMs: number;
  /** Used when a handler throws, times out or its node dies; exhausted → the job is given up. */
  crashSchedule: RetrySchedule;
  /** Completions are committed together when this many wait, or after `maxDelayMs`. */
  completionBatch?: { maxSize: number; maxDelayMs: number; maxInFlight?: number };
  /**
   * At most this many jobs of a queue wait here, leased, for a slot (default 4 × concurrency): a
   * queue whose jobs wait (webhooks of an organization at its share) leaves the others' room alone.
   */
  localQueueSize?: number;
}

export interface WorkerPool {
  readonly workerId: string;
  /**
   * Tells an idle pool there may be work now (after a local enqueue, or a NOTIFY from another node),
   * in `queue` when known (else in any queue), for `fairKey` (its organization) when known. Work of
   * an organization already at its share of the queue is claimed when one of its jobs ends.
   */
  wake(queue?: string, fairKey?: string): void;
  /**
   * Room in this worker's local queue for a job of `queue` (of organization `fairKey`), or null
   * (a queue's capacity of jobs already waiting here, stopping). The caller inserts the job leased to this worker and hands it over with `take`
   * after its commit (no NOTIFY, no claim), or gives the room back with `cancel`.
   */
  reserve(queue: string, fairKey?: string): LocalRoom | null;
  stop(): Promise<void>;
}

export interface LocalRoom {
  readonly workerId: string;
  readonly leaseMs: number;
  /** The jobs inserted leased to this worker, once committed. */
  take(jobs: JobRecord[]): void;
  cancel(): void;
}

interface Running {
  job: JobRecord;
  /** Why the pool aborted the job, once it did. */
  abortedBy: Error | null;
  /** Made when a handler first asks for its signal (an AbortSignal costs a little to make). */
  controller: AbortController | null;
  /**
   * Called when the pool aborts the job (`abortRun`): plain callbacks, because a listener on an
   * AbortSignal costs microseconds, and every job and webhook attempt would add one.
   */
  onAbort: Array<(reason: unknown) => void>;
  /** The handler asked to complete; its batch decides, not the heartbeat or the timeout. */
  finishing: boolean;
}

function abortRun(r: Running, reason: Error): void {
  if (r.abortedBy) return;
  r.abortedBy = reason;
  r.controller?.abort(reason);
  for (const listener of r.onAbort.splice(0)) listener(reason);
}

function signalOf(r: Running): AbortSignal {
  if (!r.controller) {
    r.controller = new AbortController();
    if (r.abortedBy) r.controller.abort(r.abortedBy);
  }
  return r.controller.signal;
}

class JobAbortedError extends Error {}

/**
 * Runs jobs from the database. Each queue has its own slots, and one organization may hold only a
 * share of them. Jobs are claimed many at a time in one statement and leased to this worker; one
 * heartbeat renews the leases of all its jobs, and a job whose worker died is claimed again once its
 * lease runs out. Completions are committed in batches with the jobs they create, which this worker
 * takes at once (inserted already leased to it). A handler that runs too long, loses its lease or
 * is still running at shutdown is aborted through its signal, and its lease is no longer renewed.
 */
export function startWorkerPool(opts: WorkerPoolOptions): WorkerPool {
  const { store, logger } = opts;
  const workerId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const handlers = new Map(opts.handlers.map((h) => [h.queue, h]));
  const queues = [...handlers.keys()];
  const capacity = (queue: string) => opts.queueConcurrency?.[queue] ?? opts.concurrency;
  const fairCap = (queue: string) => Math.max(1, Math.floor(capacity(queue) * (opts.fairShare ?? 0.75)));
  const localQueueSize = opts.localQueueSize ?? 4 * opts.concurrency;
  const running = new Map<number, Running>();
  const tasks = new Set<Promise<void>>();
  /** Jobs leased to this worker that wait for a slot of their queue. */
  let ready: JobRecord[] = [];
  let stopping = false;
  /** Rooms given by `reserve` and not yet taken or cancelled: promised slots, like ready jobs. */
  const rooms: Array<{ queue: string; fairKey: string | null }> = [];
  let wakeUp: (() => void) | null = null;
  let wakePending = false;

  /**
   * Queues that may have work to claim: all of them after a wake-up (an enqueue here, a NOTIFY from
   * another node) or a timer; a claim that comes back short clears its queue. A freed slot alone
   * claims nothing, so a busy worker does not query the database after every job.
   */
  const maybeWork = new Set<string>(queues);
  /**
   * When each queue was last said to have work (a counter): a claim that found nothing forgets the
   * queue only if no such news came while it ran, or that wake-up would be lost until the poll.
   */
  const newsOf = new Map<string, number>();
  let news = 0;
  /**
   * Queues that may have work of organizations other than those at their share: a claim that leaves
   * those out reads only the others' jobs, so it is run only after news that may concern them.
   */
  const othersMayHaveWork = new Set<string>(queues);
  const mayHaveWork = (queue: string, forOthers = true) => {
    maybeWork.add(queue);
    if (forOthers) othersMayHaveWork.add(queue);
    newsOf.set(queue, ++news);
  };
  /** Queues whose last claim left out an organization at its share. */
  const shareBound = new Set<string>();
  /** When the next known job falls due (performance.now() clock), or null when unknown. */
  let nextDueAt: number | null = null;
  /** When `nextDueAt` was last read from the database (performance.now() clock). */
  let dueAskedAt = 0;

  /** Resumes the loop: a slot came free or local jobs are ready. */
  const kick = () => {
    wakePending = true;
    wakeUp?.();
  };
  /** There may be new work in the database (in `queue`, when known): only those queues are claimed. */
  const wake = (queue?: string, fairKey?: string) => {
    if (queue !== undefined && fairKey !== undefined && handlers.has(queue) && atShare(queue, fairKey)) {
      // A claim now would leave its organization out and find the others' jobs only: news of
      // another organization, or the end of one of this one's jobs, claims it.
      shareBound.add(queue);
      return;
    }
    if (queue !== undefined && handlers.has(queue)) mayHaveWork(queue);
    else if (queue === undefined) for (const q of queues) mayHaveWork(q);
    else return;
    nextDueAt = null;
    kick();
  };

  /** Resolves 'timer' when `ms` passed without a kick. */
  const sleep = (ms: number) =>
    new Promise<'kick' | 'timer'>((resolve) => {
      if (wakePending) return resolve('kick');
      const timer = setTimeout(() => done('timer'), ms);
      function done(why: 'kick' | 'timer') {
        clearTimeout(timer);
        wakeUp = null;
        resolve(why);
      }
      wakeUp = () => done('kick');
    });

  const completer = createCompletionBatcher({
    store,
    workerId,
    maxSize: opts.completionBatch?.maxSize ?? 64,
    maxDelayMs: opts.completionBatch?.maxDelayMs ?? 2,
    // SQLite has one connection; PostgreSQL commits a few batches side by side on its pool.
    maxInFlight: opts.completionBatch?.maxInFlight ?? (store.dialect === 'postgres' ? 4 : 1),
    leaseMs: opts.leaseMs,
    takeLocally: (jobs: readonly NewJob[]) => {
      if (stopping) return [];
      const room = new Map(queues.map((q) => [q, localRoom(q)]));
      return jobs.filter((j) => {
        const left = room.get(j.queue) ?? 0;
        if (left <= 0 || j.runAt || j.delayMs) return false;
        room.set(j.queue, left - 1);
        return true;
      });
    },
    onLeased: (jobs) => {
      ready.push(...jobs);
      kick();
    },
    // Our own batch queued them (the local queue was full, or they are due later): claim their
    // queues, or look again when they fall due.
    onQueued: (jobs) => {
      const news = new Map(jobs.map((j) => [`${j.queue} ${j.fairKey ?? ''}`, j]));
      for (const j of news.values()) wake(j.queue, j.fairKey);
    },
  });

  // These count by walking what they count (a queue's capacity or a few hundred jobs): no tally kept
  // beside the maps to drift from them, and no array made per call on this path every job takes.
  const held = (queue: string) => {
    const byKey = new Map<string, number>();
    let total = 0;
    const add = (q: string, key: string | null) => {
      if (q !== queue) return;
      total++;
      if (key !== null) byKey.set(key, (byKey.get(key) ?? 0) + 1);
    };
    for (const r of running.values()) add(r.job.queue, r.job.fair_key);
    for (const j of ready) add(j.queue, j.fair_key);
    for (const r of rooms) add(r.queue, r.fairKey);
    return { total, byKey };
  };

  /** How many more jobs of `queue` may wait here for a slot. */
  const localRoom = (queue: string) => {
    let waiting = 0;
    for (const j of ready) if (j.queue === queue) waiting++;
    for (const r of rooms) if (r.queue === queue) waiting++;
    return localQueueSize - waiting;
  };

  /** Whether `fairKey` holds its share of `queue` (running or waiting here), so a claim leaves it out. */
  const atShare = (queue: string, fairKey: string) => {
    let mine = 0;
    for (const r of running.values()) if (r.job.queue === queue && r.job.fair_key === fairKey) mine++;
    for (const j of ready) if (j.queue === queue && j.fair_key === fairKey) mine++;
    for (const r of rooms) if (r.queue === queue && r.fairKey === fairKey) mine++;
    return mine >= fairCap(queue);
  };

  const runningIn = (queue: string) => {
    const byKey = new Map<string, number>();
    let total = 0;
    for (const r of running.values()) {
      if (r.job.queue !== queue) continue;
      total++;
      if (r.job.fair_key !== null) byKey.set(r.job.fair_key, (byKey.get(r.job.fair_key) ?? 0) + 1);
    }
    return { total, byKey };
  };

  /**
   * Slots of `queue` a claim may fill: those neither running nor promised to a local job that can
   * start. A local job of an organization at its share waits without holding a slot, or a full local
   * queue of one organization's jobs would stop every claim for the others.
   */
  const freeSlots = (queue: string) => {
    const now = runningIn(queue);
    let promised = 0;
    const starting = now.byKey;
    const cap = fairCap(queue);
    const promise = (q: string, key: string | null) => {
      if (q !== queue) return;
      const mine = key === null ? 0 : (starting.get(key) ?? 0);
      if (mine >= cap) return;
      promised++;
      if (key !== null) starting.set(key, mine + 1);
    };
    for (const r of rooms) promise(r.queue, r.fairKey);
    for (const j of ready) promise(j.queue, j.fair_key);
    return capacity(queue) - now.total - promised;
  };

  function controlFor(r: Running): JobControl {
    const { job } = r;
    const live = () => {
      if (r.abortedBy) throw r.abortedBy;
    };
    return {
      job,
      get signal() {
        return signalOf(r);
      },
      throwIfAborted: live,
      onAbort(listener) {
        if (r.abortedBy) {
          listener(r.abortedBy);
          return () => {};
        }
        r.onAbort.push(listener);
        return () => {
          const at = r.onAbort.indexOf(listener);
          if (at >= 0) r.onAbort.splice(at, 1);
        };
      },
      complete: async (effects) => {
        live();
        r.finishing = true;
        await completer.complete(job, effects);
      },
      lease: { workerId, ms: opts.leaseMs },
      retryAt: async (runAt, error, effects) => {
        live();
        r.finishing = true;
        await store.transaction(async (tx) => {
          await effects?.(tx);
          await tx.jobs.retry(job, workerId, runAt, error, { kind: 'retry' });
        });
        rescheduled();
      },
      waitUntil: async (runAt) => {
        live();
        r.finishing = true;
        await store.jobs.retry(job, workerId, runAt, '', { kind: 'wait' });
        rescheduled();
      },
      fail: async (error, effects) => {
        live();
        r.finishing = true;
        await store.transaction(async (tx) => {
          await effects?.(tx);
          await tx.jobs.fail(job, workerId, error);
        });
        logger.warn({ jobId: job.id, queue: job.queue, error }, 'job given up');
      },
    };
  }

  /** Gives a job up for good: its handler ends the work visibly, and the job is kept with `error`. */
  async function giveUp(job: JobRecord, error: string): Promise<void> {
    logger.error({ jobId: job.id, queue: job.queue, crashes: job.crashes, error }, 'job given up');
    const handler = handlers.get(job.queue);
    try {
      await store.transaction(async (tx) => {
        await handler?.giveUp?.(job, tx, error);
        await tx.jobs.fail(job, workerId, error);
      });
    } catch (err) {
      logger.error({ err, jobId: job.id }, 'could not end the given-up job visibly; keeping it failed');
      await store.jobs.fail(job, workerId, error);
    }
  }

  /** A job of ours went back to the queue for later: the next due time may have moved. */
  function rescheduled(): void {
    nextDueAt = null;
    kick();
  }

  async function crashed(job: JobRecord, error: string): Promise<void> {
    const delay = nextRetryDelay(opts.crashSchedule, job.crashes + 1);
    if (delay === null) return giveUp(job, error);
    await store.jobs.retry(job, workerId, Date.now() + delay, error, { kind: 'crash' });
    rescheduled();
  }

  async function execute(r: Running): Promise<void> {
    const { job } = r;
    const handler = handlers.get(job.queue);
    const timeout = setTimeout(() => {
      if (!r.finishing) abortRun(r, new JobAbortedError(`timed out after ${opts.jobTimeoutMs} ms`));
    }, opts.jobTimeoutMs);
    const aborted = new Promise<'aborted'>((resolve) => r.onAbort.push(() => resolve('aborted')));
    let failure: unknown = null;
    try {
      // Crashes counted while nobody ran it (leases that ran out) may have used up its schedule.
      if (job.crashes > 0 && nextRetryDelay(opts.crashSchedule, job.crashes) === null) {
        return await giveUp(job, job.last_error ?? 'crashed too often');
      }
      if (!handler) throw new Error(`no handler for queue ${job.queue}`);
      const run = handler.run(controlFor(r));
      // A handler that ignores its signal may settle after we stopped waiting for it.
      run.catch(() => {});
      await Promise.race([run, aborted]);
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timeout);
    }
    if (r.abortedBy) {
      const reason = r.abortedBy;
      if (reason instanceof LeaseLostError || stopping) {
        logger.warn({ jobId: job.id, queue: job.queue, reason: String(reason) }, 'job abandoned');
        return;
      }
      failure = reason;
    }
    if (failure === null) return;
    if (failure instanceof LeaseLostError) {
      logger.warn({ jobId: job.id, queue: job.queue }, 'job lease lost; another worker owns it now');
      return;
    }
    logger.error({ err: failure, jobId: job.id, queue: job.queue, crashes: job.crashes }, 'job failed');
    try {
      await crashed(job, String(failure));
    } catch (inner) {
      logger.error({ err: inner, jobId: job.id }, 'could not record job failure; its lease will expire');
    }
  }

  function start(job: JobRecord): void {
    const r: Running = { job, abortedBy: null, controller: null, onAbort: [], finishing: false };
    running.set(job.id, r);
    const task = execute(r)
      .catch((err: unknown) => logger.error({ err, jobId: job.id }, 'job bookkeeping failed'))
      .finally(() => {
        running.delete(job.id);
        tasks.delete(task);
        if (shareBound.delete(job.queue)) mayHaveWork(job.queue, false);
        kick();
      });
    tasks.add(task);
  }

  /** Starts waiting local jobs that have a free slot and whose organization is under its share. */
  function startReady(): void {
    if (ready.length === 0) return;
    const counts = new Map<string, { total: number; byKey: Map<string, number> }>();
    const countOf = (queue: string) => {
      const known = counts.get(queue);
      if (known) return known;
      const c = { total: 0, byKey: new Map<string, number>() };
      counts.set(queue, c);
      return c;
    };
    for (const r of running.values()) {
      const c = countOf(r.job.queue);
      c.total++;
      if (r.job.fair_key !== null) c.byKey.set(r.job.fair_key, (c.byKey.get(r.job.fair_key) ?? 0) + 1);
    }
    // Every queue with waiting jobs full: nothing to start, and the list stays as it is.
    if (ready.every((j) => countOf(j.queue).total >= capacity(j.queue))) return;
    const keep: JobRecord[] = [];
    for (const job of ready) {
      const now = countOf(job.queue);
      const mine = job.fair_key === null ? 0 : (now.byKey.get(job.fair_key) ?? 0);
      if (now.total < capacity(job.queue) && mine < fairCap(job.queue)) {
        start(job);
        now.total++;
        if (job.fair_key !== null) now.byKey.set(job.fair_key, mine + 1);
      } else {
        keep.push(job);
      }
    }
    ready = keep;
  }

  /** Claims for one queue; true when it may have more work right now. */
  async function claimFor(queue: string): Promise<boolean> {
    const h = held(queue);
    const free = freeSlots(queue);
    if (free <= 0) return false;
    const cap = fairCap(queue);
    const exclude = [...h.byKey].filter(([, n]) => n >= cap).map(([key]) => key);
    if (exclude.length > 0 && !othersMayHaveWork.has(queue)) {
      // Only organizations at their share have news: the end of one of their jobs claims again.
      shareBound.add(queue);
      return false;
    }
    const newsBefore = newsOf.get(queue) ?? 0;
    // Never so many to start that one organization could go past its share with this claim; a few
    // more wait here, leased, for the slots that come free, so that the end of a job starts the next
    // one without a claim (a claim that takes one job is a commit per job on PostgreSQL).
    const most = Math.max(0, ...[...h.byKey.values()].filter((n) => n < cap));
    const startable = Math.min(free, cap - most);
    const ahead = Math.max(0, Math.min(capacity(queue), localRoom(queue)));
    const limit = startable + ahead;
    const claimed = await store.jobs.claim(workerId, limit, opts.leaseMs, undefined, {
      queue,
      excludeFairKeys: exclude,
      reclaimExpired: false,
    });
    // Organizations left out at their share may have due jobs: the next job of this queue that
    // ends makes room, and the queue is claimed again then rather than at the next poll.
    if (exclude.length > 0 && claimed.length < limit) {
      shareBound.add(queue);
      if ((newsOf.get(queue) ?? 0) <= newsBefore) othersMayHaveWork.delete(queue);
    }
    // In due order (a claim's rows come back in no particular order): what must go in order, such
    // as a sender's messages under a throughput limit, starts in order.
    ready.push(...claimed.sort((a, b) => a.run_at - b.run_at || a.id - b.id));
    startReady();
    return claimed.length === limit;
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      wakePending = false;
      startReady();
      // One claim per queue that may have work and has a free slot, side by side (PostgreSQL runs
      // them on separate connections).
      const open = queues.filter((q) => maybeWork.has(q) && freeSlots(q) > 0);
      const newsBefore = news;
      const full = await Promise.all(
        open.map((queue) =>
          claimFor(queue).catch((err: unknown) => {
            logger.error({ err, queue }, 'claiming jobs failed');
            return false;
          }),
        ),
      );
      open.forEach((q, i) => {
        if (!full[i] && (newsOf.get(q) ?? 0) <= newsBefore) maybeWork.delete(q);
      });
      if (full.some(Boolean) || stopping) continue;
      if ((await sleep(await untilNextDue())) === 'timer') {
        for (const q of queues) mayHaveWork(q);
        nextDueAt = null;
      }
    }
  }

  async function untilNextDue(): Promise<number> {
    // Asked again only when it may have changed: news, a timer, a reschedule here (each forgets it),
    // or the known next job falling due since it was asked (a claim may have taken it; the one after
    // is unknown). Not after every claim: on PostgreSQL each ask is a commit.
    if (nextDueAt !== null && nextDueAt <= performance.now() && dueAskedAt < nextDueAt) nextDueAt = null;
    if (nextDueAt === null) {
      try {
        const ms = await store.jobs.msUntilDue(queues);
        dueAskedAt = performance.now();
        nextDueAt = ms === null ? Number.POSITIVE_INFINITY : dueAskedAt + ms;
      } catch {
        return opts.pollMs;
      }
    }
    const ms = nextDueAt - performance.now();
    // Due already, yet not claimed just now: it belongs to an organization at its share, waits for
    // a slot, or another node is taking it. A freed slot or a NOTIFY wakes us sooner.
    return ms <= 0 ? opts.pollMs : Math.min(opts.pollMs, Math.ceil(ms));
  }

  // A lease only has to outlive a dead worker, not a slow job: one statement renews the leases of
  // every job this worker runs or holds, well before they end. A job whose lease was taken anyway
  // is aborted; an aborted job is no longer renewed. The same beat hands back other nodes' expired
  // leases.
  async function beat(): Promise<void> {
    const live = [...running.values()].filter((r) => !r.abortedBy);
    const waiting = new Set(ready.map((j) => j.id));
    const ids = [...live.map((r) => r.job.id), ...waiting];
    if (ids.length > 0) {
      const kept = await store.jobs.extendLeases(workerId, ids, opts.leaseMs);
      for (const r of live) {
        if (!kept.has(r.job.id) && !r.finishing) abortRun(r, new LeaseLostError(r.job.id));
      }
      // Jobs handed over while the renewal ran were not in it: their fresh leases stand.
      ready = ready.filter((j) => !waiting.has(j.id) || kept.has(j.id));
    }
    if ((await store.jobs.reclaimExpired()) > 0) wake();
  }
  let beating = false;
  const heartbeat = setInterval(
    () => {
      if (beating) return;
      beating = true;
      beat()
        .catch((err: unknown) => logger.warn({ err }, 'renewing job leases failed'))
        .finally(() => {
          beating = false;
        });
    },
    Math.max(20, Math.floor(opts.leaseMs / 3)),
  );
  heartbeat.unref();

  const looping = loop();

  function reserve(queue: string, fairKey?: string): LocalRoom | null {
    // One that cannot start yet waits here, leased, in due order with the rest, as it would wait in
    // the database (a slot or its share comes free); but no more of them than a claim takes ahead
    // (a queue's capacity), so that a busy node does not keep from idle ones the work its API took.
    if (stopping || !handlers.has(queue)) return null;
    if (localQueueSize - localRoom(queue) >= Math.min(capacity(queue), localQueueSize)) return null;
    const room = { queue, fairKey: fairKey ?? null };
    rooms.push(room);
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      rooms.splice(rooms.indexOf(room), 1);
      return true;
    };
    return {
      workerId,
      leaseMs: opts.leaseMs,
      take(jobs) {
        if (!close()) return;
        // Stopping: `stop` hands back every job leased to this worker, these too.
        if (stopping) return;
        ready.push(...jobs);
        kick();
      },
      cancel() {
        if (close()) kick();
      },
    };
  }

  return {
    workerId,
    wake,
    reserve,
    async stop() {
      stopping = true;
      wake();
      await looping;
      void completer.drain();
      // Let running jobs finish for a while, then abort the rest and hand them back.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...tasks]),
        new Promise((resolve) => {
          grace = setTimeout(resolve, opts.shutdownGraceMs);
        }),
      ]);
      clearTimeout(grace);
      for (const r of running.values()) if (!r.finishing) abortRun(r, new JobAbortedError('shutting down'));
      await Promise.allSettled([...tasks]);
      await completer.drain();
      clearInterval(heartbeat);
      const released = await store.jobs.releaseAll(workerId);
      if (released > 0) logger.info({ released }, 'released unfinished jobs');
    },
  };
}
