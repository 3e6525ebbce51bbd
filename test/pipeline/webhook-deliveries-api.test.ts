import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import { createTenant, type TestGateway } from '../support/gateway.ts';
import { sendGroupMms, startPipelineGateway, waitForDeliveriesSettled } from '../support/pipeline-gateway.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/** Telnyx's `GET /v2/webhook_deliveries` and `/{id}`, called through the official SDK. */

let gw: TestGateway;
let ok: WebhookReceiver;
let failing: WebhookReceiver;
let client: Telnyx;

before(async () => {
  gw = await startPipelineGateway();
  ok = await startWebhookReceiver({ keepAliveTimeoutMs: 1_000 });
  failing = await startWebhookReceiver({
    respond: { status: 410, body: 'nobody home' },
    keepAliveTimeoutMs: 1_000,
  });
  client = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await ok?.close();
  await failing?.close();
});

test('the SDK lists deliveries with filters and retrieves one with its attempts', async () => {
  const delivered = await sendGroupMms(gw, { to: ['+13125550100'], text: 'ok', webhook_url: ok.url });
  // A 410 retires the only URL: one attempt, the event fails.
  const failed = await sendGroupMms(gw, {
    to: ['+13125550100'],
    text: 'fails',
    webhook_url: failing.url,
    use_profile_webhooks: false,
  });
  await waitForDeliveriesSettled(gw, delivered.id, 2);
  await waitForDeliveriesSettled(gw, failed.id, 2);

  const all = [];
  for await (const d of client.webhookDeliveries.list({ page: { size: 1 } } as never)) all.push(d);
  assert.equal(all.length, 4, 'every event, one per page through the SDK paginator');
  const times = all.map((d) => d.started_at!);
  assert.deepEqual(times, [...times].sort().reverse(), 'newest first');

  const failedPage = await client.webhookDeliveries.list({ filter: { status: { eq: 'failed' } } });
  assert.equal(failedPage.data.length, 2);
  for (const d of failedPage.data) {
    assert.equal(d.status, 'failed');
    assert.equal((d.webhook!.payload as { group_message_id?: string }).group_message_id, failed.id);
    assert.equal(d.attempts?.[0]?.http?.response?.status, 410);
    assert.equal(d.attempts?.[0]?.http?.response?.body, 'nobody home');
  }

  const finalizedOnly = await client.webhookDeliveries.list({
    filter: { event_type: 'message.finalized', attempts: { contains: ok.url } },
  });
  assert.equal(finalizedOnly.data.length, 1);
  assert.equal(finalizedOnly.data[0]!.webhook?.event_type, 'message.finalized');

  const none = await client.webhookDeliveries.list({
    filter: { started_at: { lte: '2000-01-01T00:00:00Z' } },
  });
  assert.equal(none.data.length, 0);

  const one = await client.webhookDeliveries.retrieve(finalizedOnly.data[0]!.id!);
  const d = one.data!;
  assert.equal(d.record_type, 'webhook_delivery');
  assert.equal(d.status, 'delivered');
  assert.equal(d.user_id, gw.organizationId);
  assert.equal(d.webhook?.record_type, 'event');
  const attempt = d.attempts![0]!;
  assert.equal(attempt.status, 'delivered');
  assert.equal(attempt.http?.request?.url, ok.url);
  const headerNames = attempt.http?.request?.headers?.map(([name]) => name);
  assert.ok(headerNames?.includes('telnyx-signature-ed25519'), 'the signed headers are recorded');
  assert.ok(Date.parse(attempt.started_at!) <= Date.parse(attempt.finished_at!));
});

test('another organization sees none of them, and bad filters get Telnyx errors', async () => {
  const other = await createTenant(gw.store);
  const otherClient = new Telnyx({ apiKey: other.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0 });
  const page = await otherClient.webhookDeliveries.list();
  assert.equal(page.data.length, 0);
  const [mine] = (await client.webhookDeliveries.list()).data;
  await assert.rejects(otherClient.webhookDeliveries.retrieve(mine!.id!), (err: { status?: number }) => {
    assert.equal(err.status, 404);
    return true;
  });
  const res = await fetch(`${gw.url}/v2/webhook_deliveries?filter[status][eq]=lost&page[size]=0`, {
    headers: { authorization: `Bearer ${gw.apiKey}` },
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { errors: Array<{ source?: { pointer?: string } }> };
  assert.deepEqual(body.errors.map((e) => e.source?.pointer).sort(), ['/filter/status/eq', '/page/size']);
});
