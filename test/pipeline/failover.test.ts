import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiDelivery,
  api,
  envelopeOf,
  envelopesFor,
  getDeliveries,
  sendGroupMms,
  startPipelineGateway,
  waitForDeliveriesSettled,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  closedPortUrl,
  type ReceivedRequest,
  type Reply,
  type Responder,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

/**
 * The webhook delivery chain against real receivers: the message's URL, its failover, the profile's
 * URL; 410, 3xx, refused connections, 5xx and Retry-After; and every attempt as the
 * /webhook_deliveries route records it. One recipient sends two events (message.sent, message.finalized).
 */

const TO = ['+13125557301'];
const EVENTS_PER_RECIPIENT = 2;

let gw: TestGateway;
const receivers: WebhookReceiver[] = [];

async function receiver(respond?: Responder | Reply): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver({ respond, keepRequests: true, keepAliveTimeoutMs: 1_000 });
  receivers.push(r);
  return r;
}

async function setProfileWebhook(url: string | null): Promise<void> {
  const res = await api(gw, 'PATCH', `/v2/messaging_profiles/${gw.profileId}`, { webhook_url: url });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** Sends to TO and waits until the message is final and all its events are delivered or failed. */
async function sendAndSettle(
  body: Record<string, unknown>,
  recipients = TO,
): Promise<{ id: string; deliveries: ApiDelivery[] }> {
  const accepted = await sendGroupMms(gw, { to: recipients, text: 'failover', ...body });
  await waitForFinal(gw, accepted.id);
  const deliveries = await waitForDeliveriesSettled(
    gw,
    accepted.id,
    recipients.length * EVENTS_PER_RECIPIENT,
  );
  return { id: accepted.id, deliveries };
}

const attemptsOf = (d: ApiDelivery) => d.attempts.map((a) => [a.attempt, a.url, a.outcome, a.status_code]);

/** Replies `first` to the first request of each event id, then `then`. */
function firstPerEvent(first: Reply, then: Reply = {}) {
  const seen = new Set<string>();
  return (req: Omit<ReceivedRequest, 'reply'>): Reply => {
    const id = (JSON.parse(req.rawBody) as { data: { id: string } }).data.id;
    if (seen.has(id)) return then;
    seen.add(id);
    return first;
  };
}

before(async () => {
  gw = await startPipelineGateway();
});

afterEach(async () => {
  await setProfileWebhook(null);
  for (const r of receivers.splice(0)) await r.close();
});

after(async () => {
  await gw?.close();
});

test('primary answers 200 → the failover and the profile URL are never contacted', async () => {
  const primary = await receiver();
  const failover = await receiver();
  const profile = await receiver();
  await setProfileWebhook(profile.url);
  const { id, deliveries } = await sendAndSettle({
    webhook_url: primary.url,
    webhook_failover_url: failover.url,
  });
  for (const d of deliveries) {
    assert.equal(d.delivered_to, primary.url);
    assert.deepEqual(attemptsOf(d), [[1, primary.url, 'delivered', 200]]);
    assert.deepEqual(d.urls, [
      { url: primary.url, gone: false },
      { url: failover.url, gone: false },
      { url: profile.url, gone: false },
    ]);
  }
  assert.equal(envelopesFor(primary.received, id).length, deliveries.length);
  assert.deepEqual(failover.received, []);
  assert.deepEqual(profile.received, []);
});

test('primary answers 500 → the failover URL gets the event; both attempts are listed', async () => {
  const primary = await receiver({ status: 500, body: 'primary broken' });
  const failover = await receiver();
  const { id, deliveries } = await sendAndSettle({
    webhook_url: primary.url,
    webhook_failover_url: failover.url,
  });

  assert.deepEqual(deliveries.map((d) => d.event_type).sort(), ['message.finalized', 'message.sent']);
  for (const d of deliveries) {
    assert.equal(d.status, 'delivered');
    assert.equal(d.delivered_to, failover.url);
    assert.deepEqual(attemptsOf(d), [
      [1, primary.url, 'retry', 500],
      [1, failover.url, 'delivered', 200],
    ]);
    assert.equal(d.attempts[0]!.response_body, 'primary broken');
  }
  const atPrimary = envelopesFor(primary.received, id);
  const atFailover = envelopesFor(failover.received, id);
  assert.deepEqual(atPrimary.map((e) => e.data.id).sort(), deliveries.map((d) => d.id).sort());
  assert.deepEqual(atFailover.map((e) => e.data.id).sort(), deliveries.map((d) => d.id).sort());
  for (const e of atPrimary) assert.deepEqual(e.meta, { attempt: 1, delivered_to: primary.url });
  for (const e of atFailover) assert.deepEqual(e.meta, { attempt: 1, delivered_to: failover.url });
});

test("primary and failover both down → the profile's webhook_url gets it", async () => {
  const primaryUrl = await closedPortUrl(); // nothing listening: connection refused
  const failover = await receiver('down'); // accepts, then drops the connection unanswered
  const profile = await receiver();
  await setProfileWebhook(profile.url);

  const { id, deliveries } = await sendAndSettle({
    webhook_url: primaryUrl,
    webhook_failover_url: failover.url,
  });
  for (const d of deliveries) {
    assert.equal(d.status, 'delivered');
    assert.equal(d.delivered_to, profile.url);
    assert.deepEqual(attemptsOf(d), [
      [1, primaryUrl, 'retry', null],
      [1, failover.url, 'retry', null],
      [1, profile.url, 'delivered', 200],
    ]);
    assert.equal(d.attempts[0]!.error, 'connection refused');
    assert.ok(d.attempts[1]!.error, 'the dropped connection is recorded as an error');
  }
  assert.equal(envelopesFor(failover.received, id).length, deliveries.length, 'the failover was tried');
  const atProfile = envelopesFor(profile.received, id);
  assert.deepEqual(atProfile.map((e) => e.data.id).sort(), deliveries.map((d) => d.id).sort());
  for (const e of atProfile) assert.deepEqual(e.meta, { attempt: 1, delivered_to: profile.url });
});

test('use_profile_webhooks=false and no message URLs → no event at all', async () => {
  const profile = await receiver();
  await setProfileWebhook(profile.url);

  const silent = await sendGroupMms(gw, { to: TO, text: 'quiet', use_profile_webhooks: false });
  // The control: the same message with the default use_profile_webhooks=true does reach the profile URL.
  const control = await sendAndSettle({});
  await waitForFinal(gw, silent.id);

  for (const d of control.deliveries) assert.equal(d.delivered_to, profile.url);
  assert.equal(envelopesFor(profile.received, control.id).length, control.deliveries.length);

  // Events are recorded in the transaction that changes the status, so a final message has all of its.
  assert.deepEqual(await getDeliveries(gw, silent.id), []);
  assert.deepEqual(envelopesFor(profile.received, silent.id), []);
});

test('410 on the primary retires it: later rounds go to the failover only', async () => {
  const primary = await receiver({ status: 410 });
  const failover = await receiver(firstPerEvent({ status: 500 }));
  const { id, deliveries } = await sendAndSettle({
    webhook_url: primary.url,
    webhook_failover_url: failover.url,
  });

  for (const d of deliveries) {
    assert.equal(d.status, 'delivered');
    assert.deepEqual(attemptsOf(d), [
      [1, primary.url, 'gone', 410],
      [1, failover.url, 'retry', 500],
      [2, failover.url, 'delivered', 200],
    ]);
    assert.deepEqual(d.urls, [
      { url: primary.url, gone: true },
      { url: failover.url, gone: false },
    ]);
  }
  assert.equal(envelopesFor(primary.received, id).length, deliveries.length, 'one request per event, ever');
  const atFailover = envelopesFor(failover.received, id);
  assert.deepEqual(atFailover.map((e) => e.meta.attempt).sort(), [1, 1, 2, 2]);
});

test('a 302 from the primary counts as a failure and its Location is not followed', async () => {
  const target = await receiver();
  const primary = await receiver({ status: 302, headers: { location: target.url } });
  const failover = await receiver();
  const { id, deliveries } = await sendAndSettle({
    webhook_url: primary.url,
    webhook_failover_url: failover.url,
  });

  for (const d of deliveries) {
    assert.equal(d.status, 'delivered');
    assert.equal(d.delivered_to, failover.url);
    assert.deepEqual(attemptsOf(d), [
      [1, primary.url, 'failed', 302],
      [1, failover.url, 'delivered', 200],
    ]);
  }
  assert.equal(envelopesFor(primary.received, id).length, deliveries.length);
  assert.deepEqual(target.received, [], 'the redirect target was never requested');
});

test('a receiver that is down for a while gets every event once it is back, same ids throughout', async () => {
  const recipients = ['+13125557311', '+13125557312', '+13125557313'];
  const flaky = await receiver();
  await flaky.stop(); // not listening at all at first

  const accepted = await sendGroupMms(gw, { to: recipients, text: 'flaky', webhook_url: flaky.url });
  const expected = recipients.length * EVENTS_PER_RECIPIENT;
  // Every event has failed at least once against the closed port…
  await waitFor(
    async () => {
      const d = await getDeliveries(gw, accepted.id);
      return d.length === expected && d.every((e) => e.attempts.length > 0);
    },
    { description: 'every event tried while the receiver is down' },
  );
  // …then it listens again, but drops the first 3 connections and answers 500 to the next 3.
  let answered = 0;
  flaky.respond(() => {
    answered++;
    if (answered <= 3) return 'down';
    if (answered <= 6) return { status: 500 };
    return { status: 200 };
  });
  await flaky.start();

  await waitForFinal(gw, accepted.id);
  const deliveries = await waitForDeliveriesSettled(gw, accepted.id, expected);
  const routeIds = new Set(deliveries.map((d) => d.id));
  assert.equal(routeIds.size, expected);

  const requests = flaky.received.filter((r) => envelopeOf(r).data.payload.group_message_id === accepted.id);
  const ok = requests.filter((r) => r.reply !== 'down' && (r.reply.status ?? 200) === 200);
  const okIds = ok.map((r) => envelopeOf(r).data.id);
  assert.deepEqual(new Set(okIds), routeIds, 'every event arrived, none missing, none unknown');
  assert.equal(okIds.length, expected, 'each exactly once once the receiver took it');

  for (const d of deliveries) {
    assert.equal(d.status, 'delivered');
    assert.ok(d.attempts.length >= 2, 'failed at least once first');
    assert.equal(d.attempts[0]!.error, 'connection refused');
    assert.deepEqual(
      d.attempts.map((a) => a.attempt),
      d.attempts.map((_, i) => i + 1),
      'one attempt per round, numbered',
    );
    // Every request that reached the receiver for this event: same id, same content, numbered rounds.
    const mine = requests.map(envelopeOf).filter((e) => e.data.id === d.id);
    assert.ok(mine.length >= 1);
    const first = mine[0]!;
    for (const e of mine) {
      assert.deepEqual(e.data, first.data, 'the event is identical in every attempt');
      assert.equal(e.meta.delivered_to, flaky.url);
    }
    const delivered = d.attempts.at(-1)!;
    assert.equal(delivered.outcome, 'delivered');
    assert.equal(mine.at(-1)!.meta.attempt, delivered.attempt);
    assert.deepEqual(
      mine.map((e) => e.meta.attempt),
      d.attempts.filter((a) => a.error !== 'connection refused').map((a) => a.attempt),
      'the receiver saw exactly the attempts that were not refused',
    );
  }
});

test('Retry-After on a 503 is honoured before the next round', async () => {
  const primary = await receiver(firstPerEvent({ status: 503, headers: { 'retry-after': '1' } }));
  const { id, deliveries } = await sendAndSettle({ webhook_url: primary.url });

  for (const d of deliveries) {
    assert.deepEqual(attemptsOf(d), [
      [1, primary.url, 'retry', 503],
      [2, primary.url, 'delivered', 200],
    ]);
    const mine = primary.received.filter((r) => envelopeOf(r).data.id === d.id);
    assert.equal(mine.length, 2);
    assert.equal(envelopeOf(mine[1]!).data.id, envelopeOf(mine[0]!).data.id);
    // Without Retry-After the scaled schedule (RETRY_SCALE=0.001) would retry after about 5 ms.
    const gap = mine[1]!.receivedAt - mine[0]!.receivedAt;
    assert.ok(gap >= 990, `second attempt ${gap} ms after the first; Retry-After asked for 1000`);
  }
  assert.equal(envelopesFor(primary.received, id).length, 4);
});
