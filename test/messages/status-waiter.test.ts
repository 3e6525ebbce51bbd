import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStatusWaiter } from '../../src/messages/status-waiter.ts';

test('many waiters on one key share one read per tick, and all return once it is done', async () => {
  const waiter = createStatusWaiter({ pollMs: 20 });
  let reads = 0;
  const readyAt = Date.now() + 200;
  const load = async () => {
    reads++;
    return Date.now() >= readyAt;
  };
  const results = await Promise.all(
    Array.from({ length: 50 }, () => waiter.wait({ key: 'm1', load, done: (v) => v, timeoutMs: 10_000 })),
  );
  assert.ok(results.every((r) => r.value === true && !r.timedOut));
  // One first read per wait, then one read per tick for all fifty: a poll per waiter would have
  // read about fifty times per tick.
  const ticks = reads - 50;
  assert.ok(ticks >= 1 && ticks < 50, `${reads} reads for 50 waiters`);
  waiter.close();
});

test('a wait that is not done times out, with a fresh read at the deadline', async () => {
  const waiter = createStatusWaiter({ pollMs: 1_000 });
  let value = 'sending';
  const started = Date.now();
  const pending = waiter.wait({
    key: 'm2',
    load: async () => value,
    done: (v) => v === 'final',
    timeoutMs: 150,
  });
  setTimeout(() => {
    value = 'sent';
  }, 50);
  const result = await pending;
  assert.equal(result.timedOut, true);
  assert.equal(result.value, 'sent', 'the state at the deadline, not the last tick');
  assert.ok(Date.now() - started >= 150);
  waiter.close();
});

test('an aborted wait (the client hung up) ends at once; nudge reads before the next tick', async () => {
  const waiter = createStatusWaiter({ pollMs: 60_000 });
  const controller = new AbortController();
  const aborted = waiter.wait({
    key: 'm3',
    load: async () => false,
    done: (v) => v,
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  controller.abort();
  assert.equal((await aborted).timedOut, true);

  let ready = false;
  const nudged = waiter.wait({ key: 'm4', load: async () => ready, done: (v) => v, timeoutMs: 60_000 });
  ready = true;
  waiter.nudge();
  assert.deepEqual(await nudged, { value: true, timedOut: false });
  waiter.close();
});
