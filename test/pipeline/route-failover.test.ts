import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { type MmscEmulator, startMmscEmulator } from '../../src/mmsc/emulator.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  api,
  getDeliveries,
  sendGroupMms,
  startPipelineGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Failover along a profile's route [mmsc, simulator]: the MM7 connector to the MMSC emulator first,
 * the carrier simulator second. The emulator is made to fail through its control API (an HTTP 503,
 * or its scripted 2002 Address Error), so every failure is what a real MMSC would answer.
 */

const FAILURES = 3;
const COOLDOWN_MS = 1500;

interface Logged {
  msg: string;
  messageId?: string;
  connector?: string;
  failedOver?: string[];
}

let gw: TestGateway;
let mmsc: MmscEmulator;
const logs: Logged[] = [];
/** A fresh ordinary recipient per message, so the emulator's submissions tell the messages apart. */
let nextNumber = 0;
const freshNumber = () => `+1312555${String(3000 + nextNumber++).padStart(4, '0')}`;

before(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  gw = await startPipelineGateway({
    env: {
      CONNECTOR_CACHE_MS: '0',
      CONNECTOR_BREAKER_FAILURES: String(FAILURES),
      CONNECTOR_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      LOG_LEVEL: 'info',
    },
    logger: pino({ level: 'info' }, sink),
  });
  mmsc = await startMmscEmulator({
    gatewayUrl: `${gw.url}/mm7/mmsc`,
    reportDelayMs: 0,
    reportRetryMs: 50,
    reportRetryMaxMs: 500,
    log: (line) => {
      if (line.startsWith('emulator error')) console.error(line);
    },
  });
  const now = new Date().toISOString();
  await gw.store.connectors.add({
    name: 'mmsc',
    type: 'mm7',
    settings: { url: mmsc.url, mm7Version: 'REL-6-MM7-1-4', defaultCountry: 'US' },
    created_at: now,
    updated_at: now,
  });
  await setRoute(['mmsc', 'simulator']);
});

after(async () => {
  await gw?.close();
  await mmsc?.close();
});

async function setRoute(connectors: string[]): Promise<void> {
  await gw.store.routes.set({
    messaging_profile_id: gw.profileId,
    connectors,
    updated_at: new Date().toISOString(),
  });
}

/** Queues a fault for the emulator's next submit through its control API, as an operator would. */
async function mmscFault(rule: Record<string, unknown>): Promise<void> {
  const res = await fetch(new URL('/control/faults', mmsc.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule),
  });
  assert.equal(res.status, 200);
}

const mmscSubmitsTo = (phone: string) => mmsc.submissions.filter((s) => s.to.some((t) => t.includes(phone)));

async function simulatorTook(messageId: string): Promise<boolean> {
  const found = await gw.store.messages.get(messageId);
  const ids = new Set(found!.recipients.map((r) => r.id));
  return (await gw.store.simulator.list()).some((s) => ids.has(s.recipient_id));
}

/** The connector as the extension views show it: the message list and the webhook-deliveries view. */
async function connectorShown(id: string): Promise<string | null> {
  const list = await api<{ data: Array<ApiMessage & { connector: string | null }> }>(
    gw,
    'GET',
    '/v2/messages?page[size]=50',
  );
  const listed = list.body.data.find((m) => m.id === id);
  assert.ok(listed, 'the message is listed');
  const deliveries = (await getDeliveries(gw, id)) as Array<{ connector?: string | null }>;
  for (const d of deliveries) assert.equal(d.connector, listed.connector, 'same connector in both views');
  return listed.connector;
}

async function breaker() {
  const { now, states } = await gw.store.breakers.states(['mmsc']);
  return { now, state: states.get('mmsc') };
}

async function sendOne(to: string): Promise<ApiMessage> {
  const accepted = await sendGroupMms(gw, { to: [to], text: 'failover' });
  return waitForFinal(gw, accepted.id);
}

test('a retryable failure (MMSC answers 503) sends the message to the next connector at once; carrier stays the lookup', async () => {
  const to = freshNumber();
  await mmscFault({ httpStatus: 503 });
  const accepted = await sendGroupMms(gw, { to: [to], text: 'failover' });
  const final = await waitForFinal(gw, accepted.id);

  assert.equal(final.to[0]!.status, 'delivered');
  assert.deepEqual(final.errors, []);
  assert.equal(mmscSubmitsTo(to).length, 1, 'the MMSC saw one submit and was not tried again');
  assert.deepEqual(mmscSubmitsTo(to)[0]!.answer, { httpStatus: 503 });
  assert.ok(await simulatorTook(accepted.id), 'the simulator took it');
  assert.equal(await connectorShown(accepted.id), 'simulator');
  const carrierOf = (m: ApiMessage) => (m.to[0] as unknown as { carrier: string }).carrier;
  assert.equal(carrierOf(final), carrierOf(accepted), "the recipient's carrier is the lookup's");
  const job = await gw.store.jobs.count('message.send');
  assert.equal(job, 0, 'no send job is left waiting for a retry');
  const failedOver = logs.find((l) => l.msg === 'message failed over' && l.messageId === accepted.id);
  assert.deepEqual(failedOver?.failedOver, ['mmsc'], 'the log says which connector failed');
  assert.equal(failedOver?.connector, 'simulator', 'and which took it');
  // One failure in a row: below the threshold, the breaker stays closed.
  assert.equal((await breaker()).state?.open_until ?? null, null);
});

test('a permanent failure (MMSC 2002 Address Error) does not fail over', async () => {
  // +1NPA5550102 is the emulator's scripted 2002 Address Error: a client error, permanent.
  const accepted = await sendGroupMms(gw, { to: ['+13125550102'], text: 'no failover' });
  const final = await waitForFinal(gw, accepted.id);
  assert.equal(final.to[0]!.status, 'sending_failed');
  assert.equal(final.errors[0]?.code, '40012', JSON.stringify(final.errors));
  assert.equal(mmscSubmitsTo('+13125550102').length, 1);
  assert.equal(await simulatorTook(accepted.id), false, 'the simulator never saw it');
  assert.equal(await connectorShown(accepted.id), 'mmsc');
});

test('the breaker skips a connector after repeated failures, tries it again after the cool-down, and reopens on a failed trial', async () => {
  // A success in between starts the count over.
  const ok = await sendOne(freshNumber());
  assert.equal(await connectorShown(ok.id), 'mmsc');
  assert.equal((await breaker()).state?.consecutive_failures ?? 0, 0);

  for (let i = 0; i < FAILURES; i++) {
    const to = freshNumber();
    await mmscFault({ httpStatus: 503 });
    const m = await sendOne(to);
    assert.equal(m.to[0]!.status, 'delivered');
    assert.equal(await connectorShown(m.id), 'simulator');
    assert.equal(mmscSubmitsTo(to).length, 1);
  }
  const opened = await breaker();
  assert.equal(opened.state?.consecutive_failures, FAILURES);
  assert.ok(opened.state?.open_until && opened.state.open_until > opened.now, 'the breaker is open');

  // Open: the MMSC is not tried at all (no fault is queued: it would have answered).
  const skipped = freshNumber();
  const m = await sendOne(skipped);
  assert.equal(await connectorShown(m.id), 'simulator');
  assert.equal(mmscSubmitsTo(skipped).length, 0, 'the open connector was skipped');

  // After the cool-down, one trial: it fails, so the breaker opens again.
  await waitFor(async () => {
    const b = await breaker();
    return b.now >= b.state!.open_until!;
  });
  const trial = freshNumber();
  await mmscFault({ httpStatus: 503 });
  const failedTrial = await sendOne(trial);
  assert.equal(mmscSubmitsTo(trial).length, 1, 'the trial went to the MMSC');
  assert.equal(await connectorShown(failedTrial.id), 'simulator');
  const reopened = await breaker();
  assert.ok(reopened.state?.open_until && reopened.state.open_until > reopened.now, 'open again');

  // After the next cool-down, a trial that succeeds closes it.
  await waitFor(async () => {
    const b = await breaker();
    return b.now >= b.state!.open_until!;
  });
  const good = freshNumber();
  const closed = await sendOne(good);
  assert.equal(closed.to[0]!.status, 'delivered');
  assert.equal(await connectorShown(closed.id), 'mmsc');
  assert.equal(mmscSubmitsTo(good).length, 1);
  const after = await breaker();
  assert.equal(after.state?.consecutive_failures, 0);
  assert.equal(after.state?.open_until, null, 'closed');
});

test('when every connector of the route is open, the message waits and goes out after the cool-down instead of failing', async () => {
  await setRoute(['mmsc']);
  try {
    for (let i = 0; i < FAILURES; i++) await mmscFault({ httpStatus: 503 });
    const to = freshNumber();
    const accepted = await sendGroupMms(gw, { to: [to], text: 'wait for the breaker' });
    // Three failed submits open the breaker; the message is not failed but waits.
    await waitFor(async () => mmscSubmitsTo(to).length === FAILURES && (await breaker()).state?.open_until);
    const waiting = (await gw.store.messages.get(accepted.id))!.recipients[0]!;
    assert.equal(waiting.status, 'sending', 'still waiting, not failed');

    const final = await waitForFinal(gw, accepted.id);
    assert.equal(final.to[0]!.status, 'delivered');
    assert.equal(mmscSubmitsTo(to).length, FAILURES + 1, 'the trial after the cool-down took it');
    assert.equal(await connectorShown(accepted.id), 'mmsc');
    assert.equal((await breaker()).state?.open_until, null);
  } finally {
    await setRoute(['mmsc', 'simulator']);
  }
});
