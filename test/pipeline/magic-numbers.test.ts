import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CARRIER_RETRY_SCHEDULE } from '../../src/queue/retry-schedule.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  envelopesFor,
  getMessage,
  sendGroupMms,
  startPipelineGateway,
  type WebhookEnvelope,
  waitForDeliveriesSettled,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Every scripted outcome of the carrier simulator, in one group of eight, through the real pipeline:
 * the final status and errors of each recipient as GET /v2/messages shows them and as its
 * message.finalized webhook carries them.
 */

interface Expected {
  status: string;
  errors: Array<{ code: string; title: string }>;
  /** Accepted by the carrier (so it has a message.sent event and a sent_at). */
  sent: boolean;
}

const ORDINARY = '+13125557010';
const EXPECTED: Record<string, Expected> = {
  '+13125550100': { status: 'delivered', errors: [], sent: true },
  '+13125550101': {
    status: 'delivery_failed',
    errors: [{ code: '40008', title: 'Undeliverable' }],
    sent: true,
  },
  '+13125550102': {
    status: 'sending_failed',
    errors: [{ code: '40001', title: 'Not routable' }],
    sent: false,
  },
  '+13125550103': {
    status: 'delivery_failed',
    errors: [{ code: '40002', title: 'Blocked as spam - temporary' }],
    sent: true,
  },
  '+13125550104': { status: 'delivery_unconfirmed', errors: [], sent: true },
  '+13125550105': { status: 'delivered', errors: [], sent: true },
  '+13125550106': { status: 'delivered', errors: [], sent: true },
  [ORDINARY]: { status: 'delivered', errors: [], sent: true },
};
const NUMBERS = Object.keys(EXPECTED);
const SLOW = '+13125550105';
const RETRY_SCALE = 0.1;
const CARRIER_DOWN = '+13125550106';

let gw: TestGateway;
let receiver: WebhookReceiver;
let final: ApiMessage;
let events: WebhookEnvelope[];

before(async () => {
  gw = await startPipelineGateway({
    env: {
      SIMULATOR_REPORT_DELAY_MS: '10',
      SIMULATOR_SLOW_REPORT_DELAY_MS: '300',
      // The whole submission fails twice (40006, retryable) before the carrier is back.
      SIMULATOR_CARRIER_DOWN_ATTEMPTS: '2',
      // Carrier retries 100 ms and 500 ms (±20%) apart: long enough to see in sent_at.
      RETRY_SCALE: String(RETRY_SCALE),
    },
  });
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  const accepted = await sendGroupMms(gw, { to: NUMBERS, text: 'magic numbers', webhook_url: receiver.url });
  assert.deepEqual(
    accepted.to.map((r) => r.status),
    NUMBERS.map(() => 'queued'),
  );
  final = await waitForFinal(gw, accepted.id);
  const expectedEvents = NUMBERS.length + NUMBERS.filter((n) => EXPECTED[n]!.sent).length;
  events = await waitFor(
    () => {
      const mine = envelopesFor(receiver.received, accepted.id);
      return mine.length >= expectedEvents ? mine : null;
    },
    { description: `${expectedEvents} webhooks` },
  );
});

after(async () => {
  await gw?.close();
  await receiver?.close();
});

const finalizedFor = (phone: string) =>
  events.filter(
    (e) => e.data.event_type === 'message.finalized' && e.data.payload.to[0]!.phone_number === phone,
  );
const sentFor = (phone: string) =>
  events.filter((e) => e.data.event_type === 'message.sent' && e.data.payload.to[0]!.phone_number === phone);

test('the group read-back shows each scripted final status, and the scripted errors in recipient order', () => {
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    NUMBERS.map((n) => [n, EXPECTED[n]!.status]),
  );
  assert.deepEqual(
    final.errors.map((e) => ({ code: e.code, title: e.title })),
    NUMBERS.flatMap((n) => EXPECTED[n]!.errors),
  );
  assert.ok(final.completed_at, 'every recipient is final, so the group is completed');
});

for (const phone of NUMBERS) {
  const expected = EXPECTED[phone]!;
  test(`${phone}: ${expected.status}${expected.errors[0] ? ` ${expected.errors[0].code}` : ''} in GET and in message.finalized`, async () => {
    const finalized = finalizedFor(phone);
    assert.equal(finalized.length, 1, 'exactly one message.finalized');
    const payload = finalized[0]!.data.payload;
    assert.equal(payload.to[0]!.status, expected.status);
    assert.deepEqual(
      payload.errors.map((e) => ({ code: e.code, title: e.title })),
      expected.errors,
    );
    for (const e of payload.errors) assert.ok(e.detail && e.detail.length > 0, 'errors carry a detail');
    assert.ok(payload.completed_at, 'completed_at set');

    const own = await getMessage(gw, payload.id);
    assert.equal(own.to[0]!.phone_number, phone);
    assert.equal(own.to[0]!.status, expected.status);
    assert.deepEqual(own.errors, payload.errors, 'the read-back errors are the webhook errors');
    assert.equal(own.completed_at, payload.completed_at);

    const sent = sentFor(phone);
    if (expected.sent) {
      assert.equal(sent.length, 1, 'exactly one message.sent');
      assert.equal(sent[0]!.data.payload.to[0]!.status, 'sent');
      assert.ok(own.sent_at, 'sent_at set');
      assert.equal(sent[0]!.data.payload.sent_at, own.sent_at);
    } else {
      assert.equal(sent.length, 0, 'refused at submit: never sent');
      assert.equal(own.sent_at, null);
    }
  });
}

test('the slow report (0105) completes after every other accepted recipient', () => {
  const completedAt = (phone: string) => Date.parse(finalizedFor(phone)[0]!.data.payload.completed_at!);
  const slow = completedAt(SLOW);
  for (const phone of NUMBERS) {
    if (phone === SLOW || !EXPECTED[phone]!.sent) continue;
    assert.ok(slow > completedAt(phone), `${SLOW} completed after ${phone}`);
  }
});

test('the carrier-down number (0106) was retried until the carrier was back, then submitted once', async () => {
  // The simulator refuses the whole submission while the send job's attempt <= 2, so anything
  // delivered here was submitted by the job's third run. Its ledger holds accepted submits only: each
  // recipient accepted exactly once, on one carrier id, with the same idempotency key (the message id).
  assert.equal(final.to.find((r) => r.phone_number === CARRIER_DOWN)?.status, 'delivered');
  const ledger = (await gw.store.simulator.list()).filter((row) => row.idempotency_key === final.id);
  assert.deepEqual(
    ledger.map((row) => row.phone_number).sort(),
    NUMBERS.filter((n) => EXPECTED[n]!.sent).sort(),
  );
  for (const row of ledger) assert.equal(row.times_seen, 1, `${row.phone_number} submitted once`);
  assert.equal(new Set(ledger.map((r) => r.carrier_message_id)).size, ledger.length);

  // One accepted submission: every sent recipient has the same sent_at, and no send job is left.
  const sentAts = new Set(
    events.filter((e) => e.data.event_type === 'message.sent').map((e) => e.data.payload.sent_at),
  );
  assert.equal(sentAts.size, 1);
  assert.equal(await gw.store.jobs.count('message.send'), 0);

  // And that submission came no earlier than the first two carrier retry delays allow (a lower
  // bound, which a loaded machine can only make longer): the job really waited and ran again twice.
  const [first, second] = CARRIER_RETRY_SCHEDULE.delaysMs;
  const minimumWaitMs = (first! + second!) * RETRY_SCALE * (1 - CARRIER_RETRY_SCHEDULE.jitter);
  const waited = Date.parse([...sentAts][0]!) - Date.parse(final.received_at);
  assert.ok(waited >= minimumWaitMs, `sent ${waited} ms after it was received; expected >= ${minimumWaitMs}`);
});

test('every webhook event was delivered once, at the first attempt', async () => {
  // The receiver can see a webhook before the gateway has committed its delivery.
  const deliveries = await waitForDeliveriesSettled(gw, final.id, events.length);
  assert.equal(deliveries.length, events.length);
  for (const d of deliveries) {
    assert.equal(d.status, 'delivered');
    assert.equal(d.attempts.length, 1);
    assert.equal(d.attempts[0]!.status_code, 200);
  }
  assert.equal(envelopesFor(receiver.received, final.id).length, events.length, 'no duplicates');
});
