import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../../src/gateway.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  envelopesFor,
  getMessage,
  sendGroupMms,
  startPipelineGateway,
  startWorkerGateway,
  type WebhookEnvelope,
  waitForDeliveriesSettled,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * QUEUE_LIFETIME_SECONDS: a message that cannot leave the queue before its valid_until ends
 * `expired` with 40014, and each recipient gets a message.finalized saying so.
 */

const CARRIER_DOWN = '+13125550106';
const ORDINARY = '+13125557201';

async function finalizedEvents(receiver: WebhookReceiver, groupId: string, count: number) {
  return waitFor(
    () => {
      const mine = envelopesFor(receiver.received, groupId);
      return mine.length >= count ? mine : null;
    },
    { description: `${count} webhooks for ${groupId}` },
  );
}

function assertExpired(final: ApiMessage, events: WebhookEnvelope[], phones: string[]): void {
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    phones.map((p) => [p, 'expired']),
  );
  assert.equal(final.errors.length, phones.length);
  for (const e of final.errors) {
    assert.equal(e.code, '40014');
    assert.equal(e.title, 'Message expired in queue');
  }
  assert.equal(final.sent_at, null);
  assert.ok(final.completed_at);
  assert.equal(final.valid_until, null, 'no longer queued');

  assert.equal(events.length, phones.length, 'one event per recipient, no message.sent');
  for (const e of events) {
    assert.equal(e.data.event_type, 'message.finalized');
    assert.equal(e.data.payload.to[0]!.status, 'expired');
    assert.deepEqual(
      e.data.payload.errors.map((x) => [x.code, x.title]),
      [['40014', 'Message expired in queue']],
    );
  }
  assert.deepEqual(events.map((e) => e.data.payload.to[0]!.phone_number).sort(), [...phones].sort());
}

describe('a carrier that stays down past the queue lifetime', () => {
  let gw: TestGateway;
  let receiver: WebhookReceiver;

  before(async () => {
    gw = await startPipelineGateway({
      env: { QUEUE_LIFETIME_SECONDS: '1', SIMULATOR_CARRIER_DOWN_ATTEMPTS: '1000' },
    });
    receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  });

  after(async () => {
    await gw?.close();
    await receiver?.close();
  });

  test('the group is retried, then expires with 40014 and message.finalized for each recipient', async () => {
    const phones = [CARRIER_DOWN, ORDINARY];
    const accepted = await sendGroupMms(gw, { to: phones, text: 'will expire', webhook_url: receiver.url });
    assert.equal(
      Date.parse(accepted.valid_until as string) - Date.parse(accepted.received_at),
      1000,
      'valid_until is received_at + QUEUE_LIFETIME_SECONDS',
    );

    const final = await waitForFinal(gw, accepted.id);
    const events = await finalizedEvents(receiver, accepted.id, phones.length);
    assertExpired(final, events, phones);
    // It may be expired before valid_until itself: the gateway gives up as soon as the next retry
    // would land after it.
    assert.ok(Date.parse(final.completed_at!) > Date.parse(accepted.received_at));

    const ledger = await gw.store.simulator.list();
    assert.equal(
      ledger.filter((r) => r.idempotency_key === accepted.id).length,
      0,
      'the carrier never took it',
    );
    // The receiver can see a webhook before the gateway has committed its delivery.
    const deliveries = await waitForDeliveriesSettled(gw, accepted.id, phones.length);
    assert.deepEqual(
      deliveries.map((d) => [d.event_type, d.status]),
      phones.map(() => ['message.finalized', 'delivered']),
    );
  });
});

describe('no worker until after the queue lifetime', () => {
  let gw: TestGateway;
  let worker: Gateway | null = null;
  let receiver: WebhookReceiver;

  before(async () => {
    gw = await startPipelineGateway({ env: { ROLES: 'api', QUEUE_LIFETIME_SECONDS: '1' } });
    receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  });

  after(async () => {
    await worker?.close();
    await gw?.close();
    await receiver?.close();
  });

  test('a worker started 1.5 s later finds it expired: 40014 and message.finalized', async () => {
    const phones = [ORDINARY, '+13125550100'];
    const accepted = await sendGroupMms(gw, { to: phones, text: 'nobody works', webhook_url: receiver.url });
    const validUntil = Date.parse(accepted.valid_until as string);
    await waitFor(() => Date.now() >= validUntil + 500, { description: 'lifetime over' });

    const queued = await getMessage(gw, accepted.id);
    assert.deepEqual(
      queued.to.map((r) => r.status),
      ['queued', 'queued'],
      'without a worker nothing moves',
    );

    worker = await startWorkerGateway(gw.dataDir);
    const final = await waitForFinal(gw, accepted.id);
    const events = await finalizedEvents(receiver, accepted.id, phones.length);
    assertExpired(final, events, phones);
    assert.equal(
      (await gw.store.simulator.list()).filter((r) => r.idempotency_key === accepted.id).length,
      0,
    );
  });
});
