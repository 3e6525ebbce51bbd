import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { createTenant, type Tenant, type TestGateway } from '../support/gateway.ts';
import { type ApiMessage, startPipelineGateway } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

// Defect 2 at the gateway level: organization A's webhook endpoints are dead (they accept the
// connection and never answer), and every webhook slot it could take hangs on them; organization
// B's messages still reach their final webhook, all while every one of A's deliveries still hangs.

const SLOTS = 4; // WORKER_CONCURRENCY: slots per queue; one organization may hold 3 of them.
const A_SHARE = Math.floor(SLOTS * 0.75);
// Far longer than the test runs: no attempt of A's can end by timing out while B is measured.
const WEBHOOK_TIMEOUT_MS = 600_000;

/** A real server on 127.0.0.1 that accepts every connection and never answers. */
async function startDeadEndpoint() {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => {
      if (chunk.toString('latin1').startsWith('POST ')) requests++;
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    /** Requests received and never answered (every one: it never answers). */
    hanging: () => requests,
    openConnections: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let gw: TestGateway;
let dead: Awaited<ReturnType<typeof startDeadEndpoint>>;
let live: WebhookReceiver;
let orgA: Tenant;

before(async () => {
  dead = await startDeadEndpoint();
  live = await startWebhookReceiver();
  gw = await startPipelineGateway({
    env: { WORKER_CONCURRENCY: String(SLOTS), WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS) },
  });
  orgA = await createTenant(gw.store);
});

after(async () => {
  await gw?.close();
  await dead?.close();
  await live?.close();
});

async function send(apiKey: string, body: Record<string, unknown>): Promise<ApiMessage> {
  const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { data: ApiMessage }).data;
}

test("one organization's dead webhook endpoints do not hold up another's messages", async () => {
  // A: 4 messages × 3 recipients = 12 message.sent events, far more than the webhook slots, each
  // to be tried at two dead URLs in turn.
  const aMessages: ApiMessage[] = [];
  for (let i = 0; i < 4; i++) {
    aMessages.push(
      await send(orgA.apiKey, {
        from: orgA.numbers[0],
        to: ['+13125557001', '+13125557002', '+13125557003'],
        text: `A ${i}`,
        webhook_url: dead.url(`/a/${i}`),
        webhook_failover_url: dead.url(`/a-failover/${i}`),
      }),
    );
  }
  // A holds every webhook slot it may: its share of them hangs on the dead endpoint.
  await waitFor(() => dead.hanging() >= A_SHARE, {
    timeoutMs: 60_000,
    description: `${A_SHARE} of A's deliveries hanging`,
  });

  const bMessages: ApiMessage[] = [];
  for (let i = 0; i < 3; i++) {
    bMessages.push(
      await send(gw.apiKey, {
        from: gw.numbers[0],
        to: ['+13125557101', '+13125557102', '+13125557103'],
        text: `B ${i}`,
        webhook_url: live.url,
      }),
    );
  }
  // Every recipient of B reaches message.finalized at its receiver (a generous limit for a loaded
  // machine, still well short of A's webhook timeout).
  await waitFor(
    () => [...live.finalized.values()].filter((events) => events.length > 0).length >= bMessages.length * 3,
    { timeoutMs: 120_000, description: "every B recipient's message.finalized received" },
  );

  // Meanwhile every one of A's deliveries still hangs: A's requests reached the dead endpoint and
  // none was answered, timed out or recorded as an attempt, and none of A's events is settled.
  assert.ok(dead.hanging() >= A_SHARE, `A's deliveries in flight: ${dead.hanging()}`);
  assert.ok(dead.hanging() <= A_SHARE, `A never held more than its share: ${dead.hanging()}`);
  assert.equal(dead.openConnections(), dead.hanging(), 'every request A made is still open');
  for (const m of aMessages) {
    const events = await gw.store.webhooks.listEventsForMessage(m.id);
    const attempts = await gw.store.webhooks.listAttemptsForMessage(m.id);
    assert.deepEqual(attempts, [], `no attempt of A's message ${m.id} has ended`);
    assert.ok(
      events.every((e) => e.status === 'pending' && e.attempts === 0),
      `A's events still pending at their first round: ${JSON.stringify(events.map((e) => [e.status, e.attempts]))}`,
    );
  }
  // And B's events were each delivered at the first attempt (recorded once their batch commits, a
  // moment after the receiver answered).
  for (const m of bMessages) {
    const events = await waitFor(async () => {
      const all = await gw.store.webhooks.listEventsForMessage(m.id);
      return all.length === 6 && all.every((e) => e.status !== 'pending') && all;
    });
    assert.ok(
      events.every((e) => e.status === 'delivered' && e.attempts === 1),
      JSON.stringify(events.map((e) => [e.status, e.attempts])),
    );
  }
});
