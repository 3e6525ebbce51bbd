import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type BandwidthEmulator, startBandwidthEmulator } from '../../src/bandwidth-emulator/emulator.ts';
import { bandwidthAjv, problems } from '../support/bandwidth-spec.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The emulator on its own, driven by plain HTTP as the spec and docs describe Bandwidth, with its
 * answers and callbacks checked against the shared OpenAPI schemas.
 */

const ACCOUNT = '9900003';
const APP = 'app-3';
const BASIC = `Basic ${Buffer.from('client-3:secret-3').toString('base64')}`;
const CB_AUTH = `Basic ${Buffer.from('u:p').toString('base64')}`;

let bw: BandwidthEmulator;
let receiver: WebhookReceiver;
const spec = bandwidthAjv();
const validMessage = spec.component('message');
const validCreateError = spec.component('createMessageRequestError');
const validError = spec.component('messagingRequestError');
const validStatus = spec.component('statusCallback');
const validInbound = spec.component('inboundCallback');

before(async () => {
  // The gateway side of the challenge: 401 + WWW-Authenticate without credentials, 500 once for a
  // failed-event body (to see the retry), 200 otherwise.
  let refusedOnce = false;
  receiver = await startWebhookReceiver({
    keepRequests: true,
    respond: (req) => {
      if (req.headers.authorization !== CB_AUTH)
        return { status: 401, headers: { 'www-authenticate': 'Basic realm=""' } };
      if (req.rawBody.includes('message-failed') && !refusedOnce) {
        refusedOnce = true;
        return { status: 500 };
      }
      return { status: 200 };
    },
  });
  bw = await startBandwidthEmulator({
    accountId: ACCOUNT,
    applicationId: APP,
    clientId: 'client-3',
    clientSecret: 'secret-3',
    callbackUrl: receiver.url,
    callbackUsername: 'u',
    callbackPassword: 'p',
    callbackDelayMs: 0,
    callbackRetryMs: 30,
  });
});

after(async () => {
  await bw?.close();
  await receiver?.close();
});

async function token(authorization = BASIC, body = 'grant_type=client_credentials') {
  return fetch(bw.tokenUrl, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

async function create(body: unknown, bearer: string, contentType = 'application/json') {
  const res = await fetch(`${bw.baseUrl}/users/${ACCOUNT}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('the token endpoint takes client credentials as a form and counts every request', async () => {
  const before = bw.tokenRequests();
  assert.equal((await token(`Basic ${Buffer.from('client-3:nope').toString('base64')}`)).status, 401);
  assert.equal((await token(BASIC, 'grant_type=password')).status, 400);
  const ok = await token();
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { access_token: string; expires_in: number; token_type: string };
  assert.equal(typeof body.access_token, 'string');
  assert.equal(body.expires_in, 3600);
  assert.equal(bw.tokenRequests(), before + 3);
});

test('create message: 202 with the message object per spec; 401, 415 and 400 (more than 10 recipients, bad numbers) with the spec error shapes', async () => {
  const bearer = ((await (await token()).json()) as { access_token: string }).access_token;
  const accepted = await create(
    { applicationId: APP, to: ['+13125558001', '+13125558002'], from: '+13125550001', text: 'hi', tag: 't1' },
    bearer,
  );
  assert.equal(accepted.status, 202);
  assert.ok(validMessage(accepted.body), problems(validMessage.errors));
  assert.match(String(accepted.body.id), /^\d{13}[a-z0-9]{16}$/);
  assert.deepEqual(accepted.body.to, ['+13125558001', '+13125558002']);

  // Old docs: `to` as a plain string. The answer's `to` is always a list.
  const single = await create(
    { applicationId: APP, to: '+13125558003', from: '+13125550001', text: 'hi' },
    bearer,
  );
  assert.equal(single.status, 202);
  assert.deepEqual(single.body.to, ['+13125558003']);

  const unauthorized = await create(
    { applicationId: APP, to: ['+13125558001'], from: '+13125550001', text: 'x' },
    'forged',
  );
  assert.equal(unauthorized.status, 401);
  assert.ok(validError(unauthorized.body), problems(validError.errors));

  const wrongType = await create('to=+13125558001', bearer, 'text/plain');
  assert.equal(wrongType.status, 415);
  assert.ok(validError(wrongType.body));

  const eleven = Array.from({ length: 11 }, (_, i) => `+131255581${String(i).padStart(2, '0')}`);
  for (const bad of [
    { applicationId: APP, to: eleven, from: '+13125550001', text: 'x' },
    { applicationId: APP, to: ['3125558001'], from: '+13125550001', text: 'x' },
    { applicationId: APP, to: ['+13125558001', '+13125558001'], from: '+13125550001', text: 'x' },
    { to: ['+13125558001'], from: '+13125550001', text: 'x' },
    { applicationId: APP, to: ['+13125558001'], from: '+13125550001' },
    { applicationId: 'other', to: ['+13125558001'], from: '+13125550001', text: 'x' },
  ]) {
    const refused = await create(bad, bearer);
    assert.equal(refused.status, 400, JSON.stringify(bad));
    assert.equal(refused.body.type, 'request-validation');
    assert.ok(validCreateError(refused.body), problems(validCreateError.errors));
  }
});

test('callbacks are JSON arrays per spec, sent after the Basic challenge, and retried until acknowledged', async () => {
  const bearer = ((await (await token()).json()) as { access_token: string }).access_token;
  bw.setOutcome('+13125558012', { outcome: 'failed', errorCode: 4720 });
  const accepted = await create(
    {
      applicationId: APP,
      to: ['+13125558011', '+13125558012'],
      from: '+13125550001',
      media: ['https://example.com/a.png'],
    },
    bearer,
  );
  const id = accepted.body.id as string;
  const mine = () => bw.callbacks.filter((c) => (c.events[0]!.message as { id: string }).id === id);
  await waitFor(() => mine().length === 4 && mine().every((c) => c.acknowledgedAt), {
    description: 'four callbacks acknowledged',
  });

  const bodies = receiver.received.filter((r) => r.rawBody.includes(id));
  for (const r of bodies) {
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['user-agent'], 'BandwidthAPI/v2');
    const events = JSON.parse(r.rawBody) as unknown[];
    assert.ok(Array.isArray(events) && events.length === 1);
    assert.ok(validStatus(events[0]), problems(validStatus.errors));
  }
  // Every callback: first without credentials (401 challenge), then with them.
  const unauthenticated = bodies.filter((r) => r.headers.authorization === undefined);
  assert.ok(unauthenticated.length >= 4);
  const events = bodies
    .filter((r) => r.reply !== 'down' && r.reply.status === 200)
    .map((r) => (JSON.parse(r.rawBody) as Array<{ type: string; to: string; errorCode?: number }>)[0]!);
  assert.deepEqual(
    events.map((e) => [e.type, e.to, e.errorCode]),
    [
      ['message-sent', '+13125558011', undefined],
      ['message-sent', '+13125558012', undefined],
      ['message-delivered', '+13125558011', undefined],
      ['message-failed', '+13125558012', 4720],
    ],
  );
  const failed = mine().find((c) => c.events[0]!.type === 'message-failed')!;
  assert.equal(failed.attempts, 2, 'the 500 was retried');
});

test('a 401 without WWW-Authenticate gets no second request (as the docs say)', async () => {
  const bare = await startWebhookReceiver({ keepRequests: true, respond: { status: 401 } });
  try {
    bw.setApplication({ callbackUrl: bare.url });
    bw.injectInbound({ from: '+13125558021', to: ['+13125550001'], text: 'hello' });
    await waitFor(() => bare.received.length >= 2, { description: 'two attempts' });
    assert.ok(bare.received.every((r) => r.headers.authorization === undefined));
  } finally {
    bw.setApplication({ callbackUrl: receiver.url });
    await bare.close();
  }
});

test('an inbound group message is one message-received per owner, with its media behind the bearer token', async () => {
  const ids = bw.injectInbound({
    from: '+13125558031',
    to: ['+13125550001', '+13125550002', '+13125558032'],
    owners: ['+13125550001', '+13125550002'],
    text: 'group hello',
    media: [{ contentType: 'image/png', base64: Buffer.from('png!').toString('base64'), filename: 'a.png' }],
  });
  assert.equal(ids.length, 2);
  await waitFor(
    () =>
      ids.every((i) =>
        bw.callbacks.some((c) => (c.events[0]!.message as { id: string }).id === i && c.acknowledgedAt),
      ),
    {
      description: 'both acknowledged',
    },
  );
  const events = ids.map(
    (i) => bw.callbacks.find((c) => (c.events[0]!.message as { id: string }).id === i)!.events[0]!,
  );
  for (const event of events) assert.ok(validInbound(event), problems(validInbound.errors));
  assert.deepEqual(
    events.map((e) => [e.to, (e.message as { owner: string }).owner]),
    [
      ['+13125550001', '+13125550001'],
      ['+13125550002', '+13125550002'],
    ],
  );
  const url = (events[0]!.message as { media: string[] }).media[0]!;
  assert.ok(url.startsWith(`${bw.baseUrl}/users/${ACCOUNT}/media/`));
  assert.equal((await fetch(url)).status, 401);
  const bearer = ((await (await token()).json()) as { access_token: string }).access_token;
  const got = await fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
  assert.equal(got.headers.get('content-type'), 'image/png');
  assert.equal(await got.text(), 'png!');
});

test('the control API scripts answers and reads what the emulator saw', async () => {
  const control = (path: string, body?: unknown) =>
    fetch(
      `${bw.url}/control${path}`,
      body === undefined
        ? {}
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
  assert.equal((await control('/answers', { status: 503, count: 1 })).status, 200);
  const bearer = ((await (await token()).json()) as { access_token: string }).access_token;
  const refused = await create(
    { applicationId: APP, to: ['+13125558041'], from: '+13125550001', text: 'x' },
    bearer,
  );
  assert.equal(refused.status, 503);
  assert.ok(validError(refused.body));
  const tokens = (await (await control('/tokens')).json()) as { requests: number };
  assert.equal(tokens.requests, bw.tokenRequests());
  const submits = (await (await control('/submits')).json()) as { submits: unknown[] };
  assert.equal(submits.submits.length, bw.submits.length);
  assert.equal((await control('/nothing', {})).status, 404);
});
