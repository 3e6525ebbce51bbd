import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../support/databases.ts';
import { waitFor } from '../support/wait-for.ts';

// A NOTIFY names the queue that has new work, so a node claims only that queue instead of every one
// (each claim is a commit on PostgreSQL).
const postgres = storesUnderTest().find((s) => s.name === 'postgres')!;

test('PostgreSQL: enqueued work wakes other nodes with its queue and organization; work leased to its inserter wakes nobody', async () => {
  const store = await postgres.open();
  try {
    const woken: Array<string | undefined> = [];
    const keys: Array<string | undefined> = [];
    const unsubscribe = await store.subscribeToWork((queue, fairKey) => {
      woken.push(queue);
      keys.push(fairKey);
    });
    await store.jobs.enqueue({ queue: 'message.send', payload: { n: 1 }, fairKey: 'org_a' });
    await waitFor(() => woken.length === 1);
    assert.equal(keys[0], 'org_a', 'the NOTIFY names the organization too');
    await store.transaction(async (tx) => {
      await tx.jobs.enqueueMany([
        { queue: 'webhook.deliver', payload: { n: 2 }, fairKey: 'org_b' },
        { queue: 'webhook.deliver', payload: { n: 3 }, fairKey: 'org_b' },
        { queue: 'carrier.report', payload: { n: 4 } },
      ]);
      await tx.jobs.enqueueMany([{ queue: 'mine', payload: { n: 5 } }], { leasedTo: 'me', leaseMs: 60_000 });
    });
    await waitFor(() => woken.length >= 3);
    // A later NOTIFY is the marker that nothing else was coming.
    await store.jobs.enqueue({ queue: 'marker', payload: {} });
    await waitFor(() => woken.includes('marker'));
    assert.deepEqual(woken.slice(0, 1), ['message.send']);
    assert.deepEqual(woken.slice(1, 3).sort(), ['carrier.report', 'webhook.deliver']);
    assert.equal(keys[woken.indexOf('webhook.deliver')], 'org_b');
    assert.equal(keys[woken.indexOf('carrier.report')], undefined);
    assert.deepEqual(woken.slice(3), ['marker']);
    await unsubscribe();
  } finally {
    await store.close();
  }
});
