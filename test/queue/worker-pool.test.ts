import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { JobControl, JobHandler } from '../../src/queue/job-handler.ts';
import { startWorkerPool, type WorkerPool, type WorkerPoolOptions } from '../../src/queue/worker-pool.ts';
import type { SqlDriver } from '../../src/store/sql/driver.ts';
import { createStore, type Store } from '../../src/store/store.ts';
import { countingDriver, type Statement } from '../support/counting-driver.ts';
import { storesUnderTest } from '../support/databases.ts';
import { waitFor } from '../support/wait-for.ts';

const logger = pino({ level: 'silent' });

function pool(store: Store, handlers: JobHandler[], opts: Partial<WorkerPoolOptions> = {}): WorkerPool {
  return startWorkerPool({
    store,
    handlers,
    logger,
    concurrency: 32,
    pollMs: 20,
    leaseMs: 60_000,
    shutdownGraceMs: 50,
    jobTimeoutMs: 60_000,
    crashSchedule: { delaysMs: [5, 5], jitter: 0 },
    ...opts,
  });
}

const handler = (queue: string, run: (c: JobControl) => Promise<void>, extra: Partial<JobHandler> = {}) => ({
  queue,
  run,
  ...extra,
});

/** A promise and the function that settles it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

const claimsOf = (statements: Statement[]) =>
  statements.filter((s) => s.sql.includes('SET locked_by = ?, locked_until') && s.rows > 0);
const batchDeletes = (statements: Statement[]) =>
  statements.filter((s) => s.sql.startsWith('DELETE FROM jobs WHERE id IN') && s.rows > 0);

async function childrenOf(store: Store, queue: string): Promise<number[]> {
  const jobs = await store.transaction(async (tx) => tx.jobs.claim('reader', 1000, 60_000));
  await store.transaction(async (tx) => tx.jobs.releaseAll('reader'));
  return jobs
    .filter((j) => j.queue === queue)
    .map((j) => Number(j.payload.parent))
    .sort((a, b) => a - b);
}

for (const { name, open } of storesUnderTest()) {
  describe(`worker pool (${name})`, () => {
    test('claims N jobs in one statement, commits N completions with their child jobs together, and runs the children here without claiming them', async () => {
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        counted = countingDriver(d);
        return counted.driver;
      });
      const ran = new Map<number, number>();
      const workers = pool(
        store,
        [
          handler('parent', (c) =>
            c.complete(async (tx) => {
              await tx.jobs.enqueue({ queue: 'child', payload: { parent: c.job.payload.n } });
            }),
          ),
          handler('child', async (c) => {
            const n = Number(c.job.payload.parent);
            ran.set(n, (ran.get(n) ?? 0) + 1);
            await c.complete();
          }),
        ],
        { completionBatch: { maxSize: 100, maxDelayMs: 30 } },
      );
      try {
        // Enqueued in one transaction while the pool sleeps: its next claim finds all 20.
        await store.transaction(async (tx) => {
          for (let n = 0; n < 20; n++) await tx.jobs.enqueue({ queue: 'parent', payload: { n } });
        });
        workers.wake();
        await waitFor(() => ran.size === 20 && (async () => (await store.jobs.count()) === 0)(), {
          description: '20 parents and their children done',
        });
        assert.deepEqual([...ran.values()], Array(20).fill(1), 'each child ran once');
        const claims = claimsOf(counted.statements);
        assert.equal(claims.length, 1, 'one claim statement; the children were never claimed');
        assert.equal(claims[0]!.rows, 20, 'that took all 20 parents');
        const deletes = batchDeletes(counted.statements);
        assert.equal(deletes[0]!.rows, 20, 'the 20 parents completed by one statement');
        const childInserts = counted.statements.filter(
          (s) => s.tx === deletes[0]!.tx && s.sql.includes('INSERT INTO jobs') && s.rows > 0,
        );
        assert.equal(childInserts.length, 1, 'their 20 children inserted by one statement');
        assert.equal(childInserts[0]!.rows, 20);
      } finally {
        await workers.stop();
        await store.close();
      }
    });

    test('a crash in the middle of a batch loses nothing and commits no effect twice', async () => {
      let inner!: SqlDriver;
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        inner = d;
        counted = countingDriver(d);
        return counted.driver;
      });
      const survivor = createStore(inner);
      const runs = { crashed: 0, survivor: 0 };
      const parent = (who: 'crashed' | 'survivor') =>
        handler('parent', async (c) => {
          runs[who]++;
          await c.complete(async (tx) => {
            await tx.jobs.enqueue({ queue: 'done', payload: { parent: c.job.payload.n } });
          });
        });
      // Completions wait in memory for a long time: the "crash" comes while they wait.
      const doomed = pool(store, [parent('crashed')], {
        leaseMs: 300,
        completionBatch: { maxSize: 1000, maxDelayMs: 60_000 },
      });
      let other: WorkerPool | undefined;
      try {
        await store.transaction(async (tx) => {
          for (let n = 0; n < 10; n++) await tx.jobs.enqueue({ queue: 'parent', payload: { n } });
        });
        doomed.wake();
        await waitFor(() => runs.crashed === 10, { description: 'the first node ran all 10' });
        counted.sever();
        other = pool(survivor, [parent('survivor')], { leaseMs: 300 });
        await waitFor(async () => (await survivor.jobs.count('parent')) === 0, {
          description: 'the surviving node finished every parent',
        });
        assert.equal(runs.survivor, 10, 'the unflushed batch ran again, on the survivor');
        assert.deepEqual(
          await childrenOf(survivor, 'done'),
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
          'every effect committed exactly once',
        );
      } finally {
        await other?.stop();
        await doomed.stop().catch(() => {});
        await store.close();
      }
    });

    test('a lease lost in the middle of a batch leaves that job out of the batch', async () => {
      const store = await open();
      const ran = gate();
      const ids: number[] = [];
      const workers = pool(
        store,
        [
          handler('parent', async (c) => {
            ids.push(c.job.id);
            if (ids.length === 6) ran.open();
            await c.complete(async (tx) => {
              await tx.jobs.enqueue({ queue: 'done', payload: { parent: c.job.payload.n } });
            });
          }),
        ],
        { completionBatch: { maxSize: 1000, maxDelayMs: 60_000 } },
      );
      try {
        await store.transaction(async (tx) => {
          for (let n = 0; n < 6; n++) await tx.jobs.enqueue({ queue: 'parent', payload: { n } });
        });
        workers.wake();
        await ran.opened;
        // Three leases run out and another worker takes those jobs while their completions wait.
        const stolen = await store.transaction(async (tx) => {
          await tx.jobs.extendLeases(workers.workerId, ids.slice(0, 3), -1);
          return tx.jobs.claim('thief', 10, 60_000);
        });
        assert.equal(stolen.length, 3);
        await workers.stop(); // flushes the batch
        const kept = (await childrenOf(store, 'done')).length;
        assert.equal(kept, 3, 'only the jobs still held were completed, with their effects');
        const left = stolen.map((j) => j.id).sort();
        for (const id of left) assert.equal((await store.jobs.get(id))?.locked_by, 'thief');
      } finally {
        await workers.stop().catch(() => {});
        await store.close();
      }
    });

    test('one heartbeat renews the leases of every running job; stop aborts and hands back what still runs', async () => {
      const store = await open();
      const signals: AbortSignal[] = [];
      const told: unknown[] = [];
      const started = gate();
      const workers = pool(
        store,
        [
          handler('slow', async (c) => {
            signals.push(c.signal);
            c.onAbort((reason) => told.push(reason));
            if (signals.length === 3) started.open();
            await new Promise(() => {}); // ignores its signal and never settles
          }),
        ],
        { leaseMs: 150 },
      );
      try {
        await store.transaction(async (tx) => {
          for (let n = 0; n < 3; n++) await tx.jobs.enqueue({ queue: 'slow', payload: { n } });
        });
        workers.wake();
        await started.opened;
        const first = await store.jobs.get(1);
        await waitFor(
          async () => ((await store.jobs.get(1))?.locked_until ?? 0) > first!.locked_until! + 300,
          {
            description: 'leases renewed well past their first end',
          },
        );
        assert.deepEqual(await store.jobs.claim('other', 10, 1000), [], 'nobody else can take them');
        await workers.stop();
        assert.ok(
          signals.every((s) => s.aborted),
          'every handler still running at shutdown was aborted',
        );
        assert.equal(told.length, 3, 'and its onAbort listeners told, once each');
        assert.match(String(told[0]), /shutting down/);
        const released = await store.jobs.claim('other', 10, 1000);
        assert.equal(released.length, 3, 'and its job handed back');
        assert.ok(
          released.every((j) => j.attempts === 1 && j.crashes === 0),
          'not counted as a run or a crash',
        );
      } finally {
        await store.close();
      }
    });

    test('a handler that runs too long is aborted, counted as a crash, and run again', async () => {
      const store = await open();
      const reasons: string[] = [];
      let runs = 0;
      const workers = pool(
        store,
        [
          handler('hang', async (c) => {
            runs++;
            if (runs === 1) {
              await new Promise((resolve) => c.signal.addEventListener('abort', resolve));
              reasons.push(String(c.signal.reason));
              c.signal.throwIfAborted();
            }
            await c.complete();
          }),
        ],
        { jobTimeoutMs: 100 },
      );
      try {
        await store.jobs.enqueue({ queue: 'hang', payload: {} });
        workers.wake();
        await waitFor(async () => runs === 2 && (await store.jobs.count()) === 0, {
          description: 'the job ran again after its timeout',
        });
        assert.match(reasons[0]!, /timed out/);
      } finally {
        await workers.stop();
        await store.close();
      }
    });

    test('a job that keeps crashing is given up visibly and kept with its last error', async () => {
      const store = await open();
      const givenUp: number[] = [];
      let runs = 0;
      const workers = pool(store, [
        handler(
          'boom',
          async () => {
            runs++;
            throw new Error(`boom ${runs}`);
          },
          {
            giveUp: async (job, tx) => {
              givenUp.push(job.id);
              await tx.jobs.enqueue({ queue: 'notice', payload: { gaveUp: job.id } });
            },
          },
        ),
      ]);
      try {
        await store.jobs.enqueue({ queue: 'boom', payload: {} });
        workers.wake();
        const [failed] = await waitFor(async () => {
          const f = await store.jobs.failed('boom');
          return f.length > 0 ? f : null;
        });
        assert.equal(runs, 3, 'the first run and one per crash delay');
        assert.equal(failed!.crashes, 2);
        assert.match(failed!.last_error ?? '', /boom 3/);
        assert.notEqual(failed!.failed_at, null);
        assert.deepEqual(givenUp, [failed!.id], 'its handler ended the work visibly, once');
        assert.equal(await store.jobs.count('boom'), 0, 'it is no longer live work');
        assert.equal(await store.jobs.count('notice'), 1, 'the give-up effects committed with it');
      } finally {
        await workers.stop();
        await store.close();
      }
    });

    test('a retry on the handler’s own schedule does not use up the crash schedule', async () => {
      const store = await open();
      let runs = 0;
      const workers = pool(store, [
        handler('flaky', async (c) => {
          runs++;
          if (runs <= 5) return c.retryAt(Date.now(), 'carrier down');
          if (runs === 6) throw new Error('one crash');
          await c.complete();
        }),
      ]);
      try {
        await store.jobs.enqueue({ queue: 'flaky', payload: {} });
        workers.wake();
        await waitFor(async () => runs === 7 && (await store.jobs.count()) === 0, {
          description: 'done after five retries and a crash',
        });
        assert.deepEqual(await store.jobs.failed(), [], 'nothing given up');
      } finally {
        await workers.stop();
        await store.close();
      }
    });

    test('a job whose lease another worker took is aborted and no longer renewed', async () => {
      const store = await open();
      let control: JobControl | undefined;
      const workers = pool(
        store,
        [
          handler('held', async (c) => {
            control = c;
            await new Promise(() => {});
          }),
        ],
        { leaseMs: 150 },
      );
      try {
        await store.jobs.enqueue({ queue: 'held', payload: {} });
        workers.wake();
        await waitFor(() => control !== undefined);
        // Its lease ends now and another worker takes the job.
        const [stolen] = await store.transaction(async (tx) => {
          await tx.jobs.extendLeases(workers.workerId, [control!.job.id], -1);
          return tx.jobs.claim('thief', 1, 60_000);
        });
        assert.equal(stolen?.id, control!.job.id);
        await waitFor(() => control!.signal.aborted, { description: 'the handler aborted' });
        assert.match(String(control!.signal.reason), /lease lost/);
        await assert.rejects(control!.complete(), /lease lost/);
        const job = await store.jobs.get(stolen!.id);
        assert.equal(job?.locked_by, 'thief');
        assert.equal(job?.locked_until, stolen!.locked_until, 'the first worker no longer renews it');
        assert.equal(job?.crashes, 1, 'counted once, when its lease ran out, not again by the loser');
      } finally {
        await workers.stop();
        await store.close();
      }
    });

    test('a job handed over while a heartbeat is renewing leases waits for its slot, not for its lease to run out', async () => {
      const store = await open();
      const first = gate();
      const runs: Array<{ n: unknown; crashes: number }> = [];
      const workers = pool(
        store,
        [
          handler('q', async (c) => {
            runs.push({ n: c.job.payload.n, crashes: c.job.crashes });
            if (c.job.payload.n === 'A') await first.opened;
            await c.complete();
          }),
        ],
        { concurrency: 1, leaseMs: 600 },
      );
      // The next renewal of leases is held until B has been handed over.
      const renewing = gate();
      const renew = gate();
      const extendLeases = store.jobs.extendLeases.bind(store.jobs);
      let held = false;
      store.jobs.extendLeases = async (...args) => {
        if (!held && runs.length > 0) {
          held = true;
          renewing.open();
          await renew.opened;
        }
        return extendLeases(...args);
      };
      try {
        await store.jobs.enqueue({ queue: 'q', payload: { n: 'A' } });
        workers.wake();
        await renewing.opened;
        // B arrives leased to this worker while A holds the only slot: B waits here for it.
        const room = workers.reserve('q');
        assert.ok(room);
        const leased = { leasedTo: room.workerId, leaseMs: room.leaseMs };
        room.take(await store.jobs.enqueueMany([{ queue: 'q', payload: { n: 'B' } }], leased));
        renew.open();
        await new Promise((resolve) => setTimeout(resolve, 50));
        first.open();
        await waitFor(() => runs.length === 2, { description: 'B ran' });
        assert.deepEqual(
          runs[1],
          { n: 'B', crashes: 0 },
          'B started when A ended, not after its lease ran out',
        );
      } finally {
        await workers.stop();
        await store.close();
      }
    });

    test('each queue has its own slots, and one organization only a share of a queue', async () => {
      const store = await open();
      const hung = gate();
      const running = new Map<string, number>();
      const finished: string[] = [];
      const track = (key: string, delta: number) => running.set(key, (running.get(key) ?? 0) + delta);
      const workers = pool(
        store,
        [
          // Organization A's webhooks hang (dead endpoints); B's return at once.
          handler('webhook', async (c) => {
            const org = c.job.fair_key!;
            track(org, 1);
            if (org === 'org_a') await hung.opened;
            track(org, -1);
            finished.push(`webhook:${org}`);
            await c.complete();
          }),
          handler('send', async (c) => {
            finished.push(`send:${c.job.fair_key}`);
            await c.complete();
          }),
        ],
        { concurrency: 4 },
      );
      try {
        await store.transaction(async (tx) => {
          for (let n = 0; n < 20; n++)
            await tx.jobs.enqueue({ queue: 'webhook', payload: { n }, fairKey: 'org_a' });
        });
        workers.wake();
        await waitFor(() => running.get('org_a') === 3, {
          description: 'A holds its share of webhook slots',
        });
        await store.transaction(async (tx) => {
          for (let n = 0; n < 5; n++)
            await tx.jobs.enqueue({ queue: 'webhook', payload: { n }, fairKey: 'org_b' });
          for (let n = 0; n < 5; n++)
            await tx.jobs.enqueue({ queue: 'send', payload: { n }, fairKey: 'org_b' });
        });
        workers.wake();
        await waitFor(() => finished.length === 10, { description: "B's sends and webhooks all done" });
        assert.equal(running.get('org_a'), 3, "A's dead endpoints never held more than its share");
        assert.equal(finished.filter((f) => f.endsWith('org_a')).length, 0, 'while A is still stuck');
        hung.open();
        await waitFor(async () => (await store.jobs.count()) === 0, {
          description: 'A done once its endpoints answer',
        });
      } finally {
        hung.open();
        await workers.stop();
        await store.close();
      }
    });

    test("a job that ends frees its organization's share: the next due job of that organization starts at once, not at the next poll", async () => {
      const store = await open();
      const started: number[] = [];
      const release = new Map<number, () => void>();
      const workers = pool(
        store,
        [
          handler('send', async (c) => {
            const n = Number(c.job.payload.n);
            const done = new Promise<void>((resolve) => release.set(n, resolve));
            started.push(n);
            await done;
            await c.complete();
          }),
        ],
        // No poll would come in time: only the ended job can start the next one.
        { concurrency: 4, pollMs: 600_000 },
      );
      try {
        await store.transaction(async (tx) => {
          for (let n = 0; n < 6; n++)
            await tx.jobs.enqueue({ queue: 'send', payload: { n }, fairKey: 'org_a' });
        });
        workers.wake();
        await waitFor(() => started.length === 3, {
          description: 'the organization holds its share (3 of 4)',
        });
        release.get(started[0]!)!();
        await waitFor(() => started.length === 4, {
          timeoutMs: 15_000,
          description: 'the next job of the organization started when one ended',
        });
      } finally {
        for (const open of release.values()) open();
        await workers.stop();
        await store.close();
      }
    });

    test('news of work for an organization at its share claims nothing; news for another organization claims its job', async () => {
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        counted = countingDriver(d);
        return counted.driver;
      });
      const started: string[] = [];
      const release: Array<() => void> = [];
      const workers = pool(
        store,
        [
          handler('send', async (c) => {
            started.push(String(c.job.payload.id));
            await new Promise<void>((resolve) => release.push(resolve));
            await c.complete();
          }),
        ],
        { concurrency: 4, pollMs: 600_000 },
      );
      const claims = () =>
        counted.statements.filter((s) => s.sql.includes('SET locked_by = ?, locked_until'));
      try {
        await store.transaction(async (tx) => {
          for (let n = 0; n < 3; n++)
            await tx.jobs.enqueue({ queue: 'send', payload: { id: `a${n}` }, fairKey: 'org_a' });
        });
        workers.wake();
        await waitFor(() => started.length === 3, { description: 'org_a holds its share (3 of 4)' });
        const before = claims().length;
        await store.jobs.enqueue({ queue: 'send', payload: { id: 'a3' }, fairKey: 'org_a' });
        workers.wake('send', 'org_a');
        // Nothing can be waited for here: the claim that must not happen would come at once.
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(claims().length, before, 'no claim for news of an organization at its share');
        await store.jobs.enqueue({ queue: 'send', payload: { id: 'b0' }, fairKey: 'org_b' });
        workers.wake('send', 'org_b');
        await waitFor(() => started.includes('b0'), { description: "org_b's job started" });
        assert.equal(claims().length, before + 1, "one claim took org_b's job");
        release.shift()!();
        await waitFor(() => started.includes('a3'), {
          description: "org_a's queued job started when one of its jobs ended",
        });
      } finally {
        for (const open of release) open();
        await workers.stop();
        await store.close();
      }
    });

    if (name === 'postgres') {
      test('leases and due times use the database clock: a node whose clock runs 2 h ahead cannot take a live lease', async () => {
        const store = await open();
        const realNow = Date.now;
        try {
          await store.jobs.enqueue({ queue: 'q', payload: {} });
          const [job] = await store.jobs.claim('honest', 1, 60_000);
          assert.ok(job);
          Date.now = () => realNow() + 2 * 3600_000;
          assert.deepEqual(await store.jobs.claim('skewed', 1, 60_000), [], 'the live lease holds');
          await store.jobs.enqueue({ queue: 'q', payload: { from: 'skewed' } });
          Date.now = () => realNow() - 2 * 3600_000;
          const [due] = await store.jobs.claim('late', 1, 60_000);
          assert.deepEqual(due?.payload, { from: 'skewed' }, 'a job the skewed node enqueued is due now');
        } finally {
          Date.now = realNow;
          await store.close();
        }
      });
    }
  });
}
