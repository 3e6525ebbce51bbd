import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';
import Telnyx from 'telnyx';
import { type BandwidthEmulator, startBandwidthEmulator } from '../../src/bandwidth-emulator/emulator.ts';
import { checkConnectorSettings } from '../../src/carriers/connector-settings.ts';
import { makePng, serve, startMediaServer } from '../media/fixtures.ts';
import { bandwidthAjv, problems } from '../support/bandwidth-spec.ts';
import { freePort } from '../support/free-port.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  envelopesFor,
  startPipelineGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Group MMS through a gateway whose profile is routed to a Bandwidth connector pointing at the
 * Bandwidth emulator; the customer is the official Telnyx SDK, webhooks go to a real receiver, and
 * every request, answer and callback that crosses the Bandwidth boundary is checked against the
 * shared Bandwidth OpenAPI schemas.
 */

const ACCOUNT = '9900001';
const APPLICATION = 'a1b2c3d4-0000-4000-8000-000000000001';
const CLIENT_ID = 'gateway-client';
const CLIENT_SECRET = 'cs-Vq3#never-shown';
const CB_USER = 'bandwidth';
const CB_PASSWORD = 'cb-Wt9!never-shown';
const IMAGE = makePng(3000, 21);
const IMAGE_SHA = createHash('sha256').update(IMAGE).digest('hex');

let gw: TestGateway;
let bw: BandwidthEmulator;
let receiver: WebhookReceiver;
let media: Awaited<ReturnType<typeof startMediaServer>>;
let client: Telnyx;
let publicUrl: string;
const spec = bandwidthAjv();
const validRequest = spec.component('messageRequest');
const validMessage = spec.component('message');
const validStatus = spec.component('statusCallback');
const validInbound = spec.component('inboundCallback');
const validError = spec.component('createMessageRequestError');

before(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  gw = await startPipelineGateway({
    env: { CONNECTOR_CACHE_MS: '0', PORT: String(port), PUBLIC_URL: publicUrl },
  });
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  media = await startMediaServer();
  media.routes.set('/photo.png', serve('image/png', IMAGE));
  bw = await startBandwidthEmulator({
    accountId: ACCOUNT,
    applicationId: APPLICATION,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    callbackUrl: `${publicUrl}/connectors/bw/callbacks`,
    callbackUsername: CB_USER,
    callbackPassword: CB_PASSWORD,
    callbackDelayMs: 0,
    callbackRetryMs: 50,
    callbackRetryMaxMs: 400,
  });
  const settings = checkConnectorSettings('bandwidth', {
    accountId: ACCOUNT,
    applicationId: APPLICATION,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    baseUrl: bw.baseUrl,
    tokenUrl: bw.tokenUrl,
    callbackUsername: CB_USER,
    callbackPassword: CB_PASSWORD,
  });
  assert.ok(settings.ok);
  const now = new Date().toISOString();
  await gw.store.connectors.add({
    name: 'bw',
    type: 'bandwidth',
    settings: settings.settings,
    created_at: now,
    updated_at: now,
  });
  await gw.store.routes.set({ messaging_profile_id: gw.profileId, connectors: ['bw'], updated_at: now });
  const profile = await gw.store.profiles.get(gw.organizationId, gw.profileId);
  await gw.store.profiles.update(
    gw.organizationId,
    gw.profileId,
    { ...profile!.data, webhook_url: receiver.url },
    now,
  );
  client = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0 });
});

// A test that fails midway must not leave the next one with held or doubled callbacks.
beforeEach(() => bw.controlCallbacks({ hold: false, duplicate: false }));

after(async () => {
  await gw?.close();
  await bw?.close();
  await receiver?.close();
  await media?.close();
});

async function send(to: string[], text: string, withMedia = false): Promise<string> {
  const res = await client.messages.sendGroupMms({
    from: gw.numbers[0]!,
    to,
    text,
    ...(withMedia ? { media_urls: [media.url('/photo.png')] } : {}),
    webhook_url: receiver.url,
  } as never);
  return (res.data as { id: string }).id;
}

const submitsFor = (messageId: string) =>
  bw.submits.filter((s) => (s.body as { tag?: string } | undefined)?.tag === messageId);

const callbacksFor = (bandwidthId: string) =>
  bw.callbacks.filter((c) => (c.events[0]?.message as { id?: string } | undefined)?.id === bandwidthId);

async function carrierIds(messageId: string): Promise<Array<string | null>> {
  const found = await gw.store.messages.get(messageId);
  return found!.recipients.map((r) => r.carrier_message_id);
}

function eventsByRecipient(groupId: string): Map<string, string[]> {
  const byPhone = new Map<string, string[]>();
  for (const e of envelopesFor(receiver.received, groupId)) {
    const phone = e.data.payload.to[0]!.phone_number;
    byPhone.set(phone, [...(byPhone.get(phone) ?? []), e.data.event_type]);
  }
  return byPhone;
}

/** Every request the gateway sent and every callback the emulator made, checked against the spec. */
function assertSpecConformance(): void {
  for (const s of bw.submits) {
    assert.ok(validRequest(s.body), `request body: ${problems(validRequest.errors)}`);
    if (s.answer.status === 202)
      assert.ok(validMessage(s.answer.body), `202: ${problems(validMessage.errors)}`);
    else assert.ok(validError(s.answer.body), `${s.answer.status}: ${problems(validError.errors)}`);
  }
  for (const c of bw.callbacks) {
    for (const event of c.events) {
      const check = event.type === 'message-received' ? validInbound : validStatus;
      assert.ok(check(event), `${String(event.type)}: ${problems(check.errors)}`);
    }
  }
}

test('a group MMS from the SDK is one Bandwidth request; the token is fetched once and reused; callbacks pass the challenge; every recipient is delivered', async () => {
  const to = ['+13125554001', '+13125554002', '+13125554003'];
  const id = await send(to, 'Dinner at 8?', true);
  const final = await waitForFinal(gw, id);
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    to.map((p) => [p, 'delivered']),
  );

  const [submit, ...more] = submitsFor(id);
  assert.equal(more.length, 0, 'one request for the whole group');
  assert.equal(submit!.answer.status, 202);
  assert.equal(submit!.accountId, ACCOUNT);
  assert.match(submit!.authorization ?? '', /^Bearer \S+$/);
  assert.deepEqual(submit!.body, {
    applicationId: APPLICATION,
    to,
    from: gw.numbers[0],
    text: 'Dinner at 8?',
    media: [`${publicUrl}/media/${IMAGE_SHA}`],
    tag: id,
  });
  assert.deepEqual(submit!.fieldErrors, []);
  const bandwidthId = (submit!.answer.body as { id: string }).id;
  assert.equal(bandwidthId.length, 29);
  assert.deepEqual(await carrierIds(id), [bandwidthId, bandwidthId, bandwidthId]);
  const served = await fetch(`${publicUrl}/media/${IMAGE_SHA}`);
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), IMAGE, 'the media link serves the checked bytes');

  const callbacks = callbacksFor(bandwidthId);
  assert.equal(callbacks.length, 6, 'message-sent and message-delivered per recipient');
  for (const c of callbacks) {
    assert.ok(c.acknowledgedAt, 'acknowledged');
    assert.equal(c.challenges, 1, 'answered the challenge with the credentials');
  }
  await waitFor(() => envelopesFor(receiver.received, id).length >= 6, { description: 'six webhooks' });
  for (const phone of to) {
    assert.deepEqual(eventsByRecipient(id).get(phone), ['message.sent', 'message.finalized'], phone);
  }

  const second = await send(['+13125554004'], 'again');
  await waitForFinal(gw, second);
  assert.equal(bw.tokenRequests(), 1, 'one token for both messages');
  assertSpecConformance();
});

test('a token Bandwidth no longer takes (401) is fetched again once, and the message goes out', async () => {
  const before = bw.tokenRequests();
  bw.revokeTokens();
  const id = await send(['+13125554011', '+13125554012'], 'after revocation');
  const final = await waitForFinal(gw, id);
  assert.deepEqual(
    final.to.map((r) => r.status),
    ['delivered', 'delivered'],
  );
  assert.deepEqual(
    submitsFor(id).map((s) => s.answer.status),
    [401, 202],
  );
  assert.equal(bw.tokenRequests(), before + 1);
});

test('message-failed callbacks end in the mapped status and Telnyx code, with Bandwidth code and description in detail', async () => {
  bw.setOutcome('+13125554021', { outcome: 'failed', errorCode: 4720 });
  bw.setOutcome('+13125554022', { outcome: 'failed', errorCode: 4432, description: 'forbidden to country' });
  bw.setOutcome('+13125554023', { outcome: 'failed', errorCode: 5600 });
  const to = ['+13125554021', '+13125554022', '+13125554023', '+13125554024'];
  const id = await send(to, 'some fail');
  const final = await waitForFinal(gw, id);
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    [
      ['+13125554021', 'delivery_failed'],
      ['+13125554022', 'sending_failed'],
      ['+13125554023', 'delivery_failed'],
      ['+13125554024', 'delivered'],
    ],
  );
  await waitFor(
    () =>
      envelopesFor(receiver.received, id).filter((e) => e.data.event_type === 'message.finalized').length ===
      4,
    {
      description: 'four message.finalized',
    },
  );
  const finalized = new Map(
    envelopesFor(receiver.received, id)
      .filter((e) => e.data.event_type === 'message.finalized')
      .map((e) => [e.data.payload.to[0]!.phone_number, e.data.payload.errors]),
  );
  assert.deepEqual(
    finalized.get('+13125554021')!.map((e) => [e.code, e.detail]),
    [['40012', 'Bandwidth 4720 invalid-destination-address']],
  );
  assert.deepEqual(
    finalized.get('+13125554022')!.map((e) => [e.code, e.detail]),
    [['40309', 'Bandwidth 4432 forbidden to country']],
  );
  assert.deepEqual(
    finalized.get('+13125554023')!.map((e) => [e.code, e.detail]),
    [['40006', 'Bandwidth 5600 destination-carrier-queue-full']],
  );
  // 4432 never left Bandwidth: no message.sent; the carrier failures were sent first.
  assert.deepEqual(eventsByRecipient(id).get('+13125554022'), ['message.finalized']);
  assert.deepEqual(eventsByRecipient(id).get('+13125554021'), ['message.sent', 'message.finalized']);
  assertSpecConformance();
});

test('every callback delivered twice changes nothing: one message.sent and one message.finalized per recipient', async () => {
  bw.controlCallbacks({ duplicate: true });
  bw.setOutcome('+13125554032', { outcome: 'failed', errorCode: 4775 });
  const to = ['+13125554031', '+13125554032'];
  const id = await send(to, 'twice');
  const final = await waitForFinal(gw, id);
  const bandwidthId = (submitsFor(id)[0]!.answer.body as { id: string }).id;
  await waitFor(
    () => {
      const c = callbacksFor(bandwidthId);
      return c.length === 8 && c.every((x) => x.acknowledgedAt);
    },
    { description: 'eight callbacks acknowledged' },
  );
  bw.controlCallbacks({ duplicate: false });
  await waitFor(async () => (await gw.store.jobs.count()) === 0, { description: 'all work done' });
  assert.deepEqual(
    final.to.map((r) => r.status),
    ['delivered', 'delivery_failed'],
  );
  // The handset opted out at Bandwidth (4775): Telnyx's code for a STOP block.
  const optedOut = envelopesFor(receiver.received, id).find(
    (e) => e.data.event_type === 'message.finalized' && e.data.payload.to[0]!.phone_number === '+13125554032',
  );
  assert.deepEqual(
    optedOut?.data.payload.errors.map((e) => e.code),
    ['40300'],
  );
  const again = await waitForFinal(gw, id);
  assert.deepEqual(again, final as ApiMessage, 'nothing changed after the copies');
  for (const phone of to) {
    assert.deepEqual(eventsByRecipient(id).get(phone), ['message.sent', 'message.finalized'], phone);
  }
});

test('callbacks without credentials get the Basic challenge, with wrong ones 401, and neither records anything; bad bodies are 400', async () => {
  bw.controlCallbacks({ hold: true });
  const id = await send(['+13125554041'], 'held');
  await waitFor(async () => (await carrierIds(id))[0] !== null, { description: 'submitted' });
  const bandwidthId = (submitsFor(id)[0]!.answer.body as { id: string }).id;
  const url = `${publicUrl}/connectors/bw/callbacks`;
  const time = new Date().toISOString();
  const forged = JSON.stringify([
    {
      type: 'message-delivered',
      time,
      to: '+13125554041',
      description: 'forged',
      message: {
        id: bandwidthId,
        owner: gw.numbers[0],
        applicationId: APPLICATION,
        time,
        segmentCount: 1,
        direction: 'out',
        to: ['+13125554041'],
        from: gw.numbers[0],
      },
    },
  ]);
  const post = (body: string, authorization?: string) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(authorization ? { authorization } : {}),
      },
      body,
    });

  const challenge = await post(forged);
  assert.equal(challenge.status, 401);
  assert.equal(challenge.headers.get('www-authenticate'), 'Basic realm=""');
  const wrong = await post(forged, `Basic ${Buffer.from(`${CB_USER}:nope`).toString('base64')}`);
  assert.equal(wrong.status, 401);

  const good = `Basic ${Buffer.from(`${CB_USER}:${CB_PASSWORD}`).toString('base64')}`;
  for (const body of [
    'not json',
    '42',
    '[{"type":"message-delivered"}]',
    `[${JSON.stringify({ ...JSON.parse(forged)[0], time: 'yesterday' })}]`,
    `[${JSON.stringify(JSON.parse(forged)[0])}, {"type":"message-sent","to":"+13125554041"}]`,
  ]) {
    const res = await post(body, good);
    assert.equal(res.status, 400, body);
  }
  const empty = await fetch(url, { method: 'POST', headers: { authorization: good } });
  assert.equal(empty.status, 400, 'no body, no content type');
  const huge = await post(`[${'{"type":"message-read"},'.repeat(1100)}{"type":"message-read"}]`, good);
  assert.equal(huge.status, 400, 'more events than one callback carries');
  const elsewhere = await fetch(`${publicUrl}/connectors/nobody/callbacks`, { method: 'POST', body: '[]' });
  assert.equal(elsewhere.status, 404);
  const simulator = await fetch(`${publicUrl}/connectors/simulator/callbacks`, {
    method: 'POST',
    body: '[]',
  });
  assert.equal(simulator.status, 404, 'only Bandwidth connectors take callbacks');
  await waitFor(async () => (await gw.store.jobs.count()) === 0, { description: 'all work done' });
  const held = await gw.store.messages.get(id);
  assert.equal(held!.recipients[0]!.status, 'sending', 'nothing was recorded: still awaiting message-sent');

  // A single object (as the spec shows it) is taken like an array of one.
  const single = await post(JSON.stringify({ ...JSON.parse(forged)[0], type: 'message-read' }), good);
  assert.equal(single.status, 200);
  bw.controlCallbacks({ hold: false });
  assert.equal((await waitForFinal(gw, id)).to[0]!.status, 'delivered');
});

test('a refusal code (44xx) after message-sent ends the recipient delivery_failed with its mapped code; later events change nothing', async () => {
  bw.controlCallbacks({ hold: true });
  const id = await send(['+13125554071'], 'refused late');
  await waitFor(async () => (await carrierIds(id))[0] !== null, { description: 'submitted' });
  const bandwidthId = (submitsFor(id)[0]!.answer.body as { id: string }).id;
  const time = new Date().toISOString();
  const message = {
    id: bandwidthId,
    owner: gw.numbers[0],
    applicationId: APPLICATION,
    time,
    segmentCount: 1,
    direction: 'out',
    to: ['+13125554071'],
    from: gw.numbers[0],
  };
  const post = (event: Record<string, unknown>) =>
    fetch(`${publicUrl}/connectors/bw/callbacks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        authorization: `Basic ${Buffer.from(`${CB_USER}:${CB_PASSWORD}`).toString('base64')}`,
      },
      body: JSON.stringify([{ time, to: '+13125554071', message, ...event }]),
    });
  assert.equal((await post({ type: 'message-sent', description: 'Message sent to carrier' })).status, 200);
  await waitFor(async () => (await gw.store.messages.get(id))!.recipients[0]!.status === 'sent', {
    description: 'sent',
  });
  const failed = await post({
    type: 'message-failed',
    description: 'rejected-routing-error',
    errorCode: 4401,
  });
  assert.equal(failed.status, 200);
  const final = await waitForFinal(gw, id);
  assert.equal(final.to[0]!.status, 'delivery_failed');
  assert.deepEqual(
    final.errors.map((e) => [e.code, e.detail]),
    [['40001', 'Bandwidth 4401 rejected-routing-error']],
  );
  bw.controlCallbacks({ hold: false });
  await waitFor(() => callbacksFor(bandwidthId).every((c) => c.acknowledgedAt), {
    description: 'emulator callbacks',
  });
  await waitFor(async () => (await gw.store.jobs.count()) === 0, { description: 'all work done' });
  assert.equal(
    (await waitForFinal(gw, id)).to[0]!.status,
    'delivery_failed',
    'the late delivered changed nothing',
  );
  assert.deepEqual(eventsByRecipient(id).get('+13125554071'), ['message.sent', 'message.finalized']);
});

test('a connector without callback credentials takes callbacks without a challenge', async () => {
  const settings = checkConnectorSettings('bandwidth', {
    accountId: ACCOUNT,
    applicationId: APPLICATION,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    baseUrl: bw.baseUrl,
    tokenUrl: bw.tokenUrl,
  });
  assert.ok(settings.ok);
  const now = new Date().toISOString();
  await gw.store.connectors.add({
    name: 'bw-open',
    type: 'bandwidth',
    settings: settings.settings,
    created_at: now,
    updated_at: now,
  });
  const res = await fetch(`${publicUrl}/connectors/bw-open/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify([{ type: 'message-read', to: '+13125554081', message: { id: 'x' } }]),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('www-authenticate'), null);
});

test('Bandwidth answers 400 → sending_failed 40009, not retried; 503 twice → retried, then delivered', async () => {
  bw.answerNext({
    status: 400,
    description: "'+1' must be replaced with a valid E164 formatted telephone number",
  });
  const refused = await send(['+13125554051'], 'refused');
  const final = await waitForFinal(gw, refused);
  assert.equal(final.to[0]!.status, 'sending_failed');
  assert.equal(final.errors[0]?.code, '40009');
  assert.match(final.errors[0]?.detail ?? '', /Bandwidth HTTP 400: request-validation/);
  assert.equal(submitsFor(refused).length, 1, 'not retried');

  bw.answerNext({ status: 503, count: 2, retryAfterSeconds: 0 });
  const retried = await send(['+13125554052'], 'retried');
  const later = await waitForFinal(gw, retried);
  assert.equal(later.to[0]!.status, 'delivered');
  assert.deepEqual(
    submitsFor(retried).map((s) => s.answer.status),
    [503, 503, 202],
  );
  assertSpecConformance();
});

test('an inbound group message to two of our numbers is one message.received per number, each with its own to and cc; a repeat changes nothing', async () => {
  bw.controlCallbacks({ duplicate: true });
  const photo = makePng(700, 9);
  const [mine1, mine2] = [gw.numbers[1]!, gw.numbers[2]!];
  const ids = bw.injectInbound({
    from: '+13125554061',
    to: [mine1, mine2, '+13125554062'],
    owners: [mine1, mine2],
    text: 'Count me in',
    media: [{ contentType: 'image/png', base64: photo.toString('base64'), filename: 'photo.png' }],
  });
  await waitFor(
    () => ids.every((i) => callbacksFor(i).length === 2 && callbacksFor(i).every((c) => c.acknowledgedAt)),
    {
      description: 'every copy acknowledged',
    },
  );
  bw.controlCallbacks({ duplicate: false });
  const received = () =>
    receiver.received
      .filter((r) => r.rawBody.includes('"message.received"') && r.rawBody.includes('Count me in'))
      .map(
        (r) =>
          JSON.parse(r.rawBody) as {
            data: {
              id: string;
              payload: {
                to: Array<{ phone_number: string }>;
                cc: Array<{ phone_number: string }>;
                from: { phone_number: string };
                media: Array<{ hash_sha256: string }>;
              };
            };
          },
      );
  await waitFor(() => received().length >= 2, { description: 'two message.received' });
  await waitFor(async () => (await gw.store.jobs.count()) === 0, { description: 'all work done' });
  const events = received();
  assert.equal(new Set(events.map((e) => e.data.id)).size, 2, 'two events, no more');
  const byTo = new Map(
    events.map((e) => [e.data.payload.to.map((t) => t.phone_number).join(), e.data.payload]),
  );
  assert.deepEqual([...byTo.keys()].sort(), [mine1, mine2].sort());
  assert.deepEqual(
    byTo
      .get(mine1)!
      .cc.map((c) => c.phone_number)
      .sort(),
    [mine2, '+13125554062'].sort(),
  );
  assert.deepEqual(
    byTo
      .get(mine2)!
      .cc.map((c) => c.phone_number)
      .sort(),
    [mine1, '+13125554062'].sort(),
  );
  const sha = createHash('sha256').update(photo).digest('hex');
  for (const payload of byTo.values()) {
    assert.equal(payload.from.phone_number, '+13125554061');
    assert.deepEqual(
      payload.media.map((m) => m.hash_sha256),
      [sha],
    );
  }
  assertSpecConformance();
});
