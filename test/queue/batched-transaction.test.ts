import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchedCalls } from '../../src/queue/batched-calls.ts';
import { batchedTransactions } from '../../src/queue/batched-transaction.ts';
import type { NewJob } from '../../src/store/records.ts';
import type { Repos } from '../../src/store/store.ts';
import { countingDriver } from '../support/counting-driver.ts';
import { storesUnderTest } from '../support/databases.ts';

for (const { name, open } of storesUnderTest()) {
  describe(`batched transactions (${name})`, () => {
    test('units asked for in one turn commit in one transaction, each answered with its own result', async () => {
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        counted = countingDriver(d);
        return counted.driver;
      });
      try {
        const together = batchedTransactions(store);
        const results = await Promise.all(
          [1, 2, 3, 4].map((n) =>
            together(async (tx) => {
              await tx.jobs.enqueue({ queue: 'q', payload: { n } });
              return n * 10;
            }),
          ),
        );
        assert.deepEqual(results, [10, 20, 30, 40]);
        const inserts = counted.statements.filter((s) => s.sql.includes('INSERT INTO jobs'));
        assert.equal(inserts.length, 4);
        assert.equal(new Set(inserts.map((s) => s.tx)).size, 1, 'all four in one transaction');
        assert.notEqual(inserts[0]!.tx, 0);
        assert.equal(await store.jobs.count('q'), 4);
      } finally {
        await store.close();
      }
    });

    test('a failing unit fails alone: the others are committed, its writes are not', async () => {
      const store = await open();
      try {
        const together = batchedTransactions(store);
        const outcomes = await Promise.allSettled(
          [1, 2, 3].map((n) =>
            together(async (tx) => {
              await tx.jobs.enqueue({ queue: 'q', payload: { n } });
              if (n === 2) throw new Error('unit 2 failed');
              return n;
            }),
          ),
        );
        assert.deepEqual(
          outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
          [1, 'unit 2 failed', 3],
        );
        const jobs = await store.jobs.claim('reader', 10, 60_000);
        assert.deepEqual(jobs.map((j) => j.payload.n).sort(), [1, 3]);
      } finally {
        await store.close();
      }
    });
  });
}

describe('batched calls', () => {
  test('calls of one turn are made as one; when that fails, each is made alone and only the bad one fails', async () => {
    const made: number[][] = [];
    const call = batchedCalls(async (args: number[]) => {
      made.push(args);
      if (args.includes(13)) throw new Error('13 refused');
      return args.map((n) => n * 2);
    });
    assert.deepEqual(await Promise.all([1, 2, 3].map(call)), [2, 4, 6]);
    assert.deepEqual(made, [[1, 2, 3]]);

    made.length = 0;
    const outcomes = await Promise.allSettled([4, 13, 5].map(call));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
      [8, '13 refused', 10],
    );
    assert.deepEqual(made, [[4, 13, 5], [4], [13], [5]]);
  });
});

describe('batched transactions, bounded', () => {
  test('more units than a batch holds make several transactions, each unit answered once', async () => {
    const store = await storesUnderTest()[0]!.open();
    try {
      const sizes: number[] = [];
      const counting = {
        ...store,
        transaction: <T>(fn: (tx: Repos) => Promise<T>) =>
          store.transaction(async (tx) => {
            let units = 0;
            const enqueue = (job: NewJob) => {
              units++;
              return tx.jobs.enqueue(job);
            };
            const jobs = { ...tx.jobs, enqueue };
            const result = await fn({ ...tx, jobs });
            sizes.push(units);
            return result;
          }),
      };
      const together = batchedTransactions(counting, 3);
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6, 7].map((n) =>
          together(async (tx) => {
            await tx.jobs.enqueue({ queue: 'q', payload: { n } });
            return n;
          }),
        ),
      );
      assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.equal(await store.jobs.count('q'), 7);
    } finally {
      await store.close();
    }
  });
});
