import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { TestGateway } from '../support/gateway.ts';
import { startPipelineGateway } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/** What is waiting, and why, shows on the message: carrier-down retries and the next webhook round. */

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function get(gw: TestGateway, path: string) {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: unknown }).data;
}

test('a carrier-down retry shows 40006 on the waiting recipient, and a pending webhook its next attempt time', async () => {
  const receiver = await startWebhookReceiver({ respond: { status: 503 } });
  cleanups.push(() => receiver.close());
  const gw = await startPipelineGateway({
    env: { RETRY_SCALE: '0.5', SIMULATOR_CARRIER_DOWN_ATTEMPTS: '2' },
  });
  cleanups.push(() => gw.close());
  const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      from: gw.numbers[0],
      to: ['+13125550106'],
      text: 'down',
      webhook_url: receiver.url,
    }),
  });
  const id = ((await res.json()) as { data: { id: string } }).data.id;

  type Message = { to: Array<{ status: string }>; errors: Array<{ code: string }> };
  const waiting = await waitFor(async () => {
    const m = (await get(gw, `/v2/messages/${id}`)) as Message;
    return m.errors.some((e) => e.code === '40006') && m;
  });
  assert.equal(waiting.to[0]!.status, 'sending', 'still on its way while the carrier is down');

  type Delivery = { status: string; next_attempt_at: string | null; attempts: unknown[] };
  const pending = await waitFor(async () => {
    const list = (await get(gw, `/v2/messages/${id}/webhook_deliveries`)) as Delivery[];
    return list.find((d) => d.status === 'pending' && d.attempts.length > 0 && d.next_attempt_at) ?? null;
  });
  assert.ok(Date.parse(pending.next_attempt_at!) > Date.now() - 60_000);

  const delivered = await waitFor(async () => {
    const m = (await get(gw, `/v2/messages/${id}`)) as Message;
    return m.to[0]!.status === 'delivered' && m;
  });
  assert.deepEqual(delivered.errors, [], 'the retry error is cleared once the carrier took it');

  receiver.respond({ status: 200 });
  const done = await waitFor(async () => {
    const list = (await get(gw, `/v2/messages/${id}/webhook_deliveries`)) as Delivery[];
    return list.every((d) => d.status === 'delivered') && list;
  });
  for (const d of done) assert.equal(d.next_attempt_at, null);
});
