import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  sendGroupMms,
  startPipelineGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Throughput limits against the carrier simulator, whose book records when each submit reached it:
 * a sender number held to 1 message per second, and a connector held to a number of submits per
 * second. Messages over a limit wait in the queue, in order, and none fails.
 *
 * The spacing is asserted as a lower bound only. The gateway spaces the moments its submits really
 * go by the interval, on the database's clock (each takes its moment just before it submits, one at
 * a time for a key); this test reads the simulator's book instead, stamped by the node's own clock a
 * few awaits into the submit, which varies from one message to the next on a loaded machine (tens of
 * milliseconds on PostgreSQL): SPREAD_MS, 5 % of the interval, allows for that and nothing more. The
 * defects this caught were submits 49 and 202 ms apart.
 */
const SPREAD_MS = 50;

let gw: TestGateway;
let nextNumber = 0;
const freshNumber = () => `+1312555${String(4000 + nextNumber++).padStart(4, '0')}`;

before(async () => {
  gw = await startPipelineGateway({ env: { CONNECTOR_CACHE_MS: '0' } });
});

after(async () => {
  await gw?.close();
});

/** A simulator connector of its own (with its submits-per-second limit), the profile's whole route. */
async function routeTo(name: string, maxPerSecond?: number): Promise<void> {
  const now = new Date().toISOString();
  await gw.store.connectors.add({
    name,
    type: 'simulator',
    settings: maxPerSecond ? { maxPerSecond } : {},
    created_at: now,
    updated_at: now,
  });
  await gw.store.routes.set({ messaging_profile_id: gw.profileId, connectors: [name], updated_at: now });
}

/** When each message (one recipient each) reached the simulator, in the order they were sent. */
async function submitTimes(messages: ApiMessage[]): Promise<number[]> {
  const book = await gw.store.simulator.list();
  return messages.map((m) => {
    const mine = book.filter((s) => s.idempotency_key === m.id);
    assert.equal(mine.length, 1, `one submit of ${m.id}`);
    assert.equal(Number(mine[0]!.times_seen), 1, `${m.id} was submitted once, never retried`);
    return Date.parse(mine[0]!.created_at);
  });
}

/** Asserts the submits came in the order given, each at least `intervalMs` after the one before. */
function assertSpaced(at: number[], intervalMs: number, what = 'the sender'): void {
  for (let i = 1; i < at.length; i++) {
    const gap = at[i]! - at[i - 1]!;
    assert.ok(gap >= intervalMs - SPREAD_MS, `${what}: submit ${i} came ${gap} ms after submit ${i - 1}`);
  }
  assert.ok(at.at(-1)! - at[0]! >= (at.length - 1) * intervalMs - SPREAD_MS, 'the whole run took its time');
}

async function sendEach(numbers: string[], from: string): Promise<ApiMessage[]> {
  const accepted: ApiMessage[] = [];
  for (const to of numbers) accepted.push(await sendGroupMms(gw, { from, to: [to], text: `to ${to}` }));
  return accepted;
}

test('with 1 message per second on a sender, 20 messages go out one second apart, in order, and none fails', async () => {
  await routeTo('sim-1');
  const from = gw.numbers[0]!;
  await gw.store.throughput.setSenderLimit(`number:${from}`, 1, new Date().toISOString());
  const numbers = Array.from({ length: 20 }, freshNumber);
  const accepted = await sendEach(numbers, from);

  // The last one waits in the queue: still queued, no retry counted, no error recorded.
  const last = accepted.at(-1)!;
  const [job] = await gw.store.jobs.findByPayload('message.send', 'messageId', last.id);
  assert.ok(job, 'its send job waits');
  assert.equal(job.retries, 0);
  assert.equal(job.last_error ?? null, null);
  const waiting = (await gw.store.messages.get(last.id))!.recipients[0]!;
  assert.equal(waiting.status, 'queued');
  assert.deepEqual(waiting.errors, []);

  for (const m of accepted) {
    const final = await waitForFinal(gw, m.id, 60_000);
    assert.equal(final.to[0]!.status, 'delivered', m.id);
    assert.deepEqual(final.errors, []);
  }
  assertSpaced(await submitTimes(accepted), 1000);
});

test("a profile's limit holds each of its numbers, and a connector's limit holds them all together", async () => {
  await routeTo('sim-5-per-second', 5);
  // 2 per second for every number of the profile (none has its own now); 5 per second through the
  // connector, shared by both senders.
  await gw.store.throughput.setSenderLimit(`number:${gw.numbers[0]!}`, null, new Date().toISOString());
  await gw.store.throughput.setSenderLimit(`profile:${gw.profileId}`, 2, new Date().toISOString());
  assert.ok(gw.numbers.length >= 2, 'the sandbox has two sender numbers');
  const senders = gw.numbers.slice(0, 2);
  const accepted: ApiMessage[] = [];
  for (let i = 0; i < 8; i++) {
    const to = freshNumber();
    accepted.push(await sendGroupMms(gw, { from: senders[i % 2]!, to: [to], text: `to ${to}` }));
  }
  for (const m of accepted) assert.equal((await waitForFinal(gw, m.id, 30_000)).to[0]!.status, 'delivered');
  const times = await submitTimes(accepted);
  for (const [s, from] of senders.entries()) {
    assertSpaced(
      times.filter((_, i) => i % 2 === s),
      500,
      from,
    );
  }
  assertSpaced(
    [...times].sort((a, b) => a - b),
    200,
    'the connector',
  );
  // Nothing is left waiting once every message went out.
  await waitFor(async () => (await gw.store.jobs.count('message.send')) === 0);
});
