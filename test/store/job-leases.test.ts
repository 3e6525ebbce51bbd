import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../support/databases.ts';

const T0 = 1_700_000_000_000;

for (const { name, open } of storesUnderTest()) {
  test(`${name}: extendLeases keeps a running job's lease and fails for a job another worker took`, async () => {
    const store = await open();
    try {
      await store.jobs.enqueue({ queue: 'q', payload: {} }, T0);
      const [job] = await store.jobs.claim('w1', 1, 1000, T0);
      assert.ok(job);
      // Renewed in time: nobody else can claim it past the original lease.
      assert.equal((await store.jobs.extendLeases('w1', [job.id], 5000, T0)).size, 1);
      assert.deepEqual(await store.jobs.claim('w2', 1, 1000, T0 + 2000), []);
      // Not renewed: once the lease runs out w2 takes it, and w1 can no longer renew or finish it.
      const [stolen] = await store.jobs.claim('w2', 1, 1000, T0 + 6000);
      assert.equal(stolen?.id, job.id);
      assert.equal((await store.jobs.extendLeases('w1', [job.id], 3000, T0 + 6000)).size, 0);
      await assert.rejects(store.jobs.complete(job, 'w1'), /lease lost/);
    } finally {
      await store.close();
    }
  });
}
