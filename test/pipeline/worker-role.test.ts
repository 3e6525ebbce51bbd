import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import type { Gateway } from '../../src/gateway.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  envelopesFor,
  getDeliveries,
  getMessage,
  sendGroupMms,
  startPipelineGateway,
  startWorkerGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * ROLES: an api-only gateway accepts and stores messages but sends nothing; a worker-only gateway
 * started later on the same database does all of the work.
 */

const GROUPS: Array<{ to: string[]; expected: string[] }> = [
  { to: ['+13125550100', '+13125557401'], expected: ['delivered', 'delivered'] },
  { to: ['+13125550101', '+13125550102'], expected: ['delivery_failed', 'sending_failed'] },
  {
    to: ['+13125550104', '+13125557402', '+13125557403'],
    expected: ['delivery_unconfirmed', 'delivered', 'delivered'],
  },
];

let apiGw: TestGateway;
let worker: Gateway | null = null;
let receiver: WebhookReceiver;
const accepted: ApiMessage[] = [];

before(async () => {
  apiGw = await startPipelineGateway({ env: { ROLES: 'api' } });
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
});

after(async () => {
  await worker?.close();
  await apiGw?.close();
  await receiver?.close();
});

test('the api role accepts messages and leaves them queued', async () => {
  assert.equal(apiGw.gateway.workers, null, 'no worker pool in an api-only gateway');
  for (const g of GROUPS) {
    accepted.push(await sendGroupMms(apiGw, { to: g.to, text: 'api only', webhook_url: receiver.url }));
  }
  assert.equal(await apiGw.store.jobs.count('message.send'), GROUPS.length, 'one send job per message');

  // Give a (wrongly) running worker time to act, then check that nothing did.
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const [i, m] of accepted.entries()) {
    const now = await getMessage(apiGw, m.id);
    assert.deepEqual(
      now.to.map((r) => r.status),
      GROUPS[i]!.to.map(() => 'queued'),
    );
    assert.equal(now.sent_at, null);
    assert.deepEqual(await getDeliveries(apiGw, m.id), []);
  }
  assert.equal(await apiGw.store.jobs.count('message.send'), GROUPS.length, 'no job was taken');
  assert.deepEqual(receiver.received, []);
  assert.deepEqual(await apiGw.store.simulator.list(), []);
});

test('a worker-only gateway on the same DATA_DIR processes every queued message', async () => {
  assert.equal(accepted.length, GROUPS.length, 'needs the first test');
  worker = await startWorkerGateway(apiGw.dataDir);
  assert.equal(worker.url, null, 'the worker role serves no API');
  assert.equal(worker.app, null);
  assert.ok(worker.workers);
  assert.equal(worker.sandbox, null, 'no second bootstrap');

  for (const [i, m] of accepted.entries()) {
    const final = await waitForFinal(apiGw, m.id);
    assert.deepEqual(
      final.to.map((r) => r.status),
      GROUPS[i]!.expected,
    );
    const accepts = GROUPS[i]!.expected.filter((s) => s !== 'sending_failed').length;
    const events = await waitFor(
      () => {
        const mine = envelopesFor(receiver.received, m.id);
        return mine.length >= GROUPS[i]!.to.length + accepts ? mine : null;
      },
      { description: `webhooks of message ${i}` },
    );
    assert.equal(
      events.filter((e) => e.data.event_type === 'message.finalized').length,
      GROUPS[i]!.to.length,
    );
    assert.equal(events.filter((e) => e.data.event_type === 'message.sent').length, accepts);
  }
  await waitFor(async () => (await apiGw.store.jobs.count()) === 0, { description: 'queue drained' });
  // The worker signs with the key the API gateway publishes (one key per organization, in the database).
  const published = (await (
    await fetch(`${apiGw.url}/v2/public_key`, { headers: { authorization: `Bearer ${apiGw.apiKey}` } })
  ).json()) as {
    data: { public_key: string };
  };
  const telnyx = new Telnyx({ apiKey: 'x' });
  for (const r of receiver.received) {
    await telnyx.webhooks.unwrap(r.rawBody, { headers: r.headers, key: published.data.public_key });
  }
});
