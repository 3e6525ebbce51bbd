import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import { SIMULATOR_REPLY_PICTURE } from '../../src/carriers/simulator-replies.ts';
import { makePng } from '../media/fixtures.ts';
import { type LocalServer, startLocalServer } from '../net/local-server.ts';
import { createTenant, makeTempDir, runCli, startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  api,
  startPipelineGateway,
  startWorkerGateway,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  type ReceivedRequest,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

/**
 * Simulated handsets: a scripted reply-all (+1NPA5550107), STOP (0108) and picture (0109) replies,
 * the POST /v2/simulator/messages route and the `simulate reply` CLI, all arriving at the app as
 * signed message.received webhooks (verified with the official SDK); and the waiting helpers.
 */

const REPLY_ALL = '+13125550107';
const REPLY_STOP = '+13125550108';
const REPLY_MEDIA = '+13125550109';
const SLOW = '+13125550105';
const B = '+13125557101';
const C = '+13125557102';
const REPLY_DELAY_MS = 400;

interface InboundPayload {
  id: string;
  direction: string;
  from: { phone_number: string };
  to: Array<{ phone_number: string; status: string }>;
  cc: Array<{ phone_number: string }>;
  text: string | null;
  media: Array<{ url: string; content_type: string; size: number; hash_sha256: string }>;
  received_at: string;
  [key: string]: unknown;
}
interface Event {
  data: { id: string; event_type: string; occurred_at: string; payload: InboundPayload };
}

let gw: TestGateway;
let receiver: WebhookReceiver;
let mediaServer: LocalServer;
let client: Telnyx;
let publicKey: string;
const picture = makePng(2000, 3);

before(async () => {
  gw = await startPipelineGateway({
    env: { SIMULATOR_REPLY_DELAY_MS: String(REPLY_DELAY_MS), SIMULATOR_SLOW_REPORT_DELAY_MS: '60000' },
  });
  receiver = await startWebhookReceiver({ keepRequests: true });
  mediaServer = await startLocalServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(picture);
  });
  const profile = await gw.store.profiles.get(gw.organizationId, gw.profileId);
  await gw.store.profiles.update(
    gw.organizationId,
    gw.profileId,
    { ...profile!.data, webhook_url: receiver.url },
    new Date().toISOString(),
  );
  client = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0, timeout: 30_000 });
  const key = await api<{ data: { public_key: string } }>(gw, 'GET', '/v2/public_key');
  publicKey = key.body.data.public_key;
});

after(async () => {
  await gw?.close();
  await receiver?.close();
  await mediaServer?.close();
});

/** The signed message.received events from `from`, verified with the SDK. */
async function receivedFrom(from: string): Promise<Event[]> {
  const events: Event[] = [];
  const requests: ReceivedRequest[] = receiver.received.filter(
    (r) => r.rawBody.includes('"message.received"') && r.rawBody.includes(`"phone_number":"${from}"`),
  );
  for (const r of requests) {
    const event = (await new Telnyx({ apiKey: 'x' }).webhooks.unwrap(r.rawBody, {
      headers: r.headers,
      key: publicKey,
    })) as unknown as Event;
    if (event.data.event_type === 'message.received' && event.data.payload.from.phone_number === from) {
      events.push(event);
    }
  }
  return events;
}

function waitForReceived(from: string, count = 1): Promise<Event[]> {
  return waitFor(
    async () => {
      const events = await receivedFrom(from);
      return events.length >= count ? events : null;
    },
    { description: `${count} message.received from ${from}` },
  );
}

const numbersOf = (list: Array<{ phone_number: string }>) => list.map((x) => x.phone_number).sort();

/** What must be the same whichever way a handset's message came in. */
function shape(p: InboundPayload) {
  return {
    keys: Object.keys(p).sort(),
    direction: p.direction,
    from: p.from,
    to: p.to,
    cc: numbersOf(p.cc),
    text: p.text,
  };
}

test('a group MMS to three handsets: the reply-all handset answers the group after the delay, and the API route and the CLI produce the same message.received', async () => {
  const ours = gw.numbers[0]!;
  const sent = await client.messages.sendGroupMms({
    from: ours,
    to: [REPLY_ALL, B, C],
    text: 'Dinner at 8?',
  });
  const groupId = sent.data!.id!;

  const [reply] = await waitForReceived(REPLY_ALL);
  const p = reply!.data.payload;
  assert.equal(p.direction, 'inbound');
  assert.deepEqual(numbersOf(p.to), [ours]);
  assert.deepEqual(numbersOf(p.cc), [B, C], 'cc = the other members of the group');
  assert.equal(p.text, `Reply all from ${REPLY_ALL}`);

  // At least the reply delay after its delivery (the finalized event's time is the report's).
  const finalized = await waitFor(() =>
    receiver.received
      .map((r) => JSON.parse(r.rawBody) as Event)
      .find(
        (e) =>
          e.data.event_type === 'message.finalized' &&
          e.data.payload.group_message_id === groupId &&
          e.data.payload.to[0]?.phone_number === REPLY_ALL,
      ),
  );
  assert.equal(finalized.data.payload.to[0]!.status, 'delivered');
  const gap = Date.parse(reply!.data.occurred_at) - Date.parse(finalized.data.occurred_at);
  assert.ok(gap >= REPLY_DELAY_MS - 5, `replied ${gap} ms after its delivery (delay ${REPLY_DELAY_MS} ms)`);

  // The same reply from the API route…
  const res = await api<{ data: InboundPayload }>(gw, 'POST', '/v2/simulator/messages', {
    from: REPLY_ALL,
    to: ours,
    cc: [B, C],
    text: `Reply all from ${REPLY_ALL}`,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const viaApi = await waitFor(async () =>
    (await receivedFrom(REPLY_ALL)).find((e) => e.data.payload.id === res.body.data.id),
  );
  assert.deepEqual(shape(viaApi.data.payload), shape(p));
  assert.deepEqual(shape(res.body.data), shape(p), 'the route answers what the webhook carries');

  // …and from the CLI.
  const cli = await runCli(
    [
      'simulate',
      'reply',
      '--from',
      REPLY_ALL,
      '--to',
      ours,
      '--cc',
      B,
      C,
      '--text',
      `Reply all from ${REPLY_ALL}`,
    ].concat(['--url', gw.url, '--key', gw.apiKey, '--json']),
    {},
  );
  assert.equal(cli.code, 0, cli.stderr);
  const printed = JSON.parse(cli.stdout) as InboundPayload;
  const viaCli = await waitFor(async () =>
    (await receivedFrom(REPLY_ALL)).find((e) => e.data.payload.id === printed.id),
  );
  assert.deepEqual(shape(viaCli.data.payload), shape(p));
  assert.equal((await receivedFrom(REPLY_ALL)).length, 3, 'one scripted reply, one per route');
});

test('the STOP handset replies STOP to the sender; the media handset replies with a picture served from /media', async () => {
  const ours = gw.numbers[1]!;
  await client.messages.sendGroupMms({ from: ours, to: [REPLY_STOP, REPLY_MEDIA, B], text: 'Sale today' });

  const [stop] = await waitForReceived(REPLY_STOP);
  assert.equal(stop!.data.payload.text, 'STOP');
  assert.deepEqual(numbersOf(stop!.data.payload.to), [ours]);
  assert.deepEqual(stop!.data.payload.cc, []);

  const [withMedia] = await waitForReceived(REPLY_MEDIA);
  const m = withMedia!.data.payload;
  assert.deepEqual(numbersOf(m.to), [ours]);
  assert.equal(m.text, `Picture from ${REPLY_MEDIA}`);
  assert.equal(m.media.length, 1);
  assert.equal(m.media[0]!.content_type, 'image/png');
  const served = await fetch(m.media[0]!.url);
  assert.equal(served.status, 200);
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), SIMULATOR_REPLY_PICTURE);
});

test('a handset message with media: fetched through the guard, stored, served from /media, in the webhook', async () => {
  const ours = gw.numbers[2]!;
  const res = await api<{ data: InboundPayload }>(gw, 'POST', '/v2/simulator/messages', {
    from: B,
    to: ours,
    media_urls: [`${mediaServer.origin}/cat.png`],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.data.text, null);
  const [event] = await waitForReceived(B);
  const media = event!.data.payload.media;
  assert.equal(media.length, 1);
  assert.equal(media[0]!.content_type, 'image/png');
  assert.equal(media[0]!.size, picture.length);
  assert.ok(media[0]!.url.startsWith(`${gw.url}/media/`), media[0]!.url);
  assert.deepEqual(Buffer.from(await (await fetch(media[0]!.url)).arrayBuffer()), picture);

  // A media URL that cannot be fetched: 422 with 40317, nothing received.
  const bad = await api<{ errors: Array<{ code: string; source?: { pointer?: string } }> }>(
    gw,
    'POST',
    '/v2/simulator/messages',
    { from: C, to: ours, media_urls: [`${mediaServer.origin.replace(/:\d+$/, ':9')}/gone.png`] },
  );
  assert.equal(bad.status, 422);
  assert.equal(bad.body.errors[0]!.code, '40317');
  assert.equal((await receivedFrom(C)).length, 0);
});

test('the handset route refuses a number not ours (404), another organization’s cc (404) and bad input (422), storing nothing', async () => {
  const ours = gw.numbers[0]!;
  const other = await createTenant(gw.store, { numberCount: 1 });
  type Errors = { errors: Array<{ code: string; source?: { pointer?: string } }> };
  const before = (await api<{ data: unknown[] }>(gw, 'GET', '/v2/messages?filter[direction]=inbound')).body
    .data.length;

  const notOurs = await api<Errors>(gw, 'POST', '/v2/simulator/messages', {
    from: B,
    to: '+13125557999',
    text: 'hi',
  });
  assert.equal(notOurs.status, 404);
  assert.equal(notOurs.body.errors[0]!.code, '10005');
  assert.equal(notOurs.body.errors[0]!.source?.pointer, '/to');

  const theirs = await api<Errors>(gw, 'POST', '/v2/simulator/messages', {
    from: B,
    to: ours,
    cc: [C, other.numbers[0]],
    text: 'hi',
  });
  assert.equal(theirs.status, 404);
  assert.equal(theirs.body.errors[0]!.source?.pointer, '/cc/1');

  const badFrom = await api<Errors>(gw, 'POST', '/v2/simulator/messages', {
    from: '555',
    to: ours,
    text: 'hi',
  });
  assert.equal(badFrom.status, 422);
  assert.equal(badFrom.body.errors[0]!.code, '40305');
  assert.equal(badFrom.body.errors[0]!.source?.pointer, '/from');

  const empty = await api<Errors>(gw, 'POST', '/v2/simulator/messages', { from: B, to: ours });
  assert.equal(empty.status, 422);
  assert.equal(empty.body.errors[0]!.code, '10004');

  const notJson = await api<Errors>(gw, 'POST', '/v2/simulator/messages', ['x']);
  assert.equal(notJson.status, 422);

  const after = (await api<{ data: unknown[] }>(gw, 'GET', '/v2/messages?filter[direction]=inbound')).body
    .data.length;
  assert.equal(after, before);
});

test('wait returns as soon as the message (or one recipient) is final, and times out with the current state', async () => {
  const ours = gw.numbers[0]!;
  const sent = await client.messages.sendGroupMms({ from: ours, to: [SLOW, C], text: 'wait for it' });
  const id = sent.data!.id!;
  type Waited = { data: ApiMessage; meta: { timed_out: boolean; waited_ms: number } };

  // One recipient: C is delivered soon; the slow one (report after 60 s) is not final yet.
  const one = await api<Waited>(
    gw,
    'GET',
    `/v2/simulator/messages/${id}/wait?recipient=${encodeURIComponent(C)}&timeout_ms=20000`,
  );
  assert.equal(one.status, 200);
  assert.equal(one.body.meta.timed_out, false);
  assert.equal(one.body.data.to.find((r) => r.phone_number === C)!.status, 'delivered');
  assert.equal(one.body.data.to.find((r) => r.phone_number === SLOW)!.status, 'sent');

  // The whole message is not final within the timeout: answered at the timeout with its state then.
  const whole = await api<Waited>(gw, 'GET', `/v2/simulator/messages/${id}/wait?timeout_ms=300`);
  assert.equal(whole.status, 200);
  assert.equal(whole.body.meta.timed_out, true);
  // libuv starts a timer from the loop's cached clock, so it can fire up to 1 ms early by Date.now().
  assert.ok(whole.body.meta.waited_ms >= 299, `waited ${whole.body.meta.waited_ms} ms`);
  assert.equal(whole.body.data.to.find((r) => r.phone_number === SLOW)!.status, 'sent');

  // A message that becomes final: answered then, not at the timeout.
  const quick = await client.messages.sendGroupMms({ from: ours, to: [B, C], text: 'quick' });
  const done = await api<Waited>(gw, 'GET', `/v2/simulator/messages/${quick.data!.id}/wait?timeout_ms=25000`);
  assert.equal(done.body.meta.timed_out, false);
  assert.deepEqual(
    done.body.data.to.map((r) => r.status),
    ['delivered', 'delivered'],
  );
  assert.ok(done.body.meta.waited_ms < 25_000);

  // Input errors: unknown id 404, a number not in the message and a timeout over the bound 422.
  const missing = await api(gw, 'GET', '/v2/simulator/messages/0190f000-0000-7000-8000-000000000000/wait');
  assert.equal(missing.status, 404);
  const stranger = await api(gw, 'GET', `/v2/simulator/messages/${id}/wait?recipient=%2B13125557999`);
  assert.equal(stranger.status, 422);
  const tooLong = await api(gw, 'GET', `/v2/simulator/messages/${id}/wait?timeout_ms=3600000`);
  assert.equal(tooLong.status, 422);

  // The CLI form: final → exit 0; not final within --timeout → exit 2, timed_out printed.
  const cliDone = await runCli(
    ['messages', 'wait', quick.data!.id!, '--url', gw.url, '--key', gw.apiKey, '--json'],
    {},
  );
  assert.equal(cliDone.code, 0, cliDone.stderr);
  assert.equal((JSON.parse(cliDone.stdout) as Waited).meta.timed_out, false);
  const cliSlow = await runCli(
    ['messages', 'wait', id, '--timeout', '300', '--url', gw.url, '--key', gw.apiKey, '--json'],
    {},
  );
  assert.equal(cliSlow.code, 2, cliSlow.stderr);
  const printed = JSON.parse(cliSlow.stdout) as Waited;
  assert.equal(printed.meta.timed_out, true);
  assert.equal(printed.data.to.find((r) => r.phone_number === SLOW)!.status, 'sent');
});

test('latest waits for the next inbound message to a number, or answers null at the timeout', async () => {
  const ours = gw.numbers[1]!;
  const since = new Date().toISOString();
  const none = await api<{ data: InboundPayload | null; meta: { timed_out: boolean; waited_ms: number } }>(
    gw,
    'GET',
    `/v2/simulator/messages/latest?to=${encodeURIComponent(ours)}&since=${encodeURIComponent(since)}&timeout_ms=300`,
  );
  assert.equal(none.status, 200);
  assert.deepEqual(
    { data: none.body.data, timed_out: none.body.meta.timed_out },
    { data: null, timed_out: true },
  );
  assert.ok(none.body.meta.waited_ms >= 300);

  const waiting = api<{ data: InboundPayload | null; meta: { timed_out: boolean } }>(
    gw,
    'GET',
    `/v2/simulator/messages/latest?to=${encodeURIComponent(ours)}&since=${encodeURIComponent(since)}&timeout_ms=20000`,
  );
  const sent = await api<{ data: InboundPayload }>(gw, 'POST', '/v2/simulator/messages', {
    from: C,
    to: ours,
    text: 'are you there?',
  });
  assert.equal(sent.status, 200);
  const latest = await waiting;
  assert.equal(latest.body.meta.timed_out, false);
  assert.equal(latest.body.data?.id, sent.body.data.id);

  // The CLI form.
  const cli = await runCli(
    [
      'messages',
      'latest',
      '--to',
      ours,
      '--from',
      C,
      '--since',
      since,
      '--url',
      gw.url,
      '--key',
      gw.apiKey,
      '--json',
    ],
    {},
  );
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal((JSON.parse(cli.stdout) as { data: InboundPayload }).data.id, sent.body.data.id);
});

test('a scripted reply is a queued job: it survives a stop of the gateway and is sent by the next one', async () => {
  const dataDir = makeTempDir();
  const hooks = await startWebhookReceiver({ keepRequests: true });
  const env = { SIMULATOR_REPLY_DELAY_MS: '3000' };
  const first = await startPipelineGateway({ dataDir, env });
  let next: Awaited<ReturnType<typeof startWorkerGateway>> | undefined;
  try {
    const profile = await first.store.profiles.get(first.organizationId, first.profileId);
    await first.store.profiles.update(
      first.organizationId,
      first.profileId,
      { ...profile!.data, webhook_url: hooks.url },
      new Date().toISOString(),
    );
    const sent = await api<{ data: ApiMessage }>(first, 'POST', '/v2/messages/group_mms', {
      from: first.numbers[0],
      to: [REPLY_ALL, B],
      text: 'still there?',
    });
    assert.equal(sent.status, 200);
    const events = () => hooks.received.map((r) => JSON.parse(r.rawBody) as Event);
    await waitFor(
      () =>
        events().some(
          (e) =>
            e.data.event_type === 'message.finalized' && e.data.payload.to[0]?.phone_number === REPLY_ALL,
        ),
      { description: 'the reply-all handset delivered' },
    );
    await first.close();
    assert.ok(!events().some((e) => e.data.event_type === 'message.received'), 'no reply before the stop');

    next = await startWorkerGateway(dataDir, env);
    const reply = await waitFor(() => events().find((e) => e.data.event_type === 'message.received'), {
      description: 'the reply sent by the next gateway',
    });
    assert.equal(reply.data.payload.from.phone_number, REPLY_ALL);
    assert.deepEqual(numbersOf(reply.data.payload.cc), [B]);
  } finally {
    await next?.close();
    await first.close();
    await hooks.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('outside a sandbox the simulator routes do not exist', async () => {
  const prod = await startTestGateway({ env: { SANDBOX: 'false' } });
  try {
    const res = await api(prod, 'POST', '/v2/simulator/messages', {
      from: B,
      to: prod.numbers[0],
      text: 'hi',
    });
    assert.equal(res.status, 404);
  } finally {
    await prod.close();
  }
});
