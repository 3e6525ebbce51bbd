import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type BandwidthEmulator, startBandwidthEmulator } from '../../../src/bandwidth-emulator/emulator.ts';
import { createBandwidthConnector } from '../../../src/carriers/bandwidth/index.ts';
import type { BandwidthConnectorSettings } from '../../../src/carriers/connector-settings.ts';
import { checkConnectorSettings } from '../../../src/carriers/connector-settings.ts';
import type { CarrierSubmission } from '../../../src/carriers/types.ts';
import { closedPortUrl } from '../../support/webhook-receiver.ts';

/** The connector against the emulator and against servers that misbehave. */

let bw: BandwidthEmulator;
let secretCounter = 0;

before(async () => {
  bw = await startBandwidthEmulator({
    accountId: '9900002',
    applicationId: 'app-2',
    clientId: 'client-2',
    clientSecret: 'secret-2',
    tokenLifetimeSeconds: 3600,
    callbackDelayMs: 0,
  });
});
after(() => bw?.close());

function settings(overrides: Record<string, unknown> = {}): BandwidthConnectorSettings {
  const checked = checkConnectorSettings('bandwidth', {
    accountId: '9900002',
    applicationId: 'app-2',
    clientId: 'client-2',
    clientSecret: 'secret-2',
    baseUrl: bw.baseUrl,
    tokenUrl: bw.tokenUrl,
    ...overrides,
  });
  assert.ok(checked.ok);
  return checked.settings as BandwidthConnectorSettings;
}

function submission(to: string[], overrides: Partial<CarrierSubmission> = {}): CarrierSubmission {
  return {
    idempotencyKey: 'k',
    messageId: `msg-${++secretCounter}`,
    from: '+13125550001',
    recipients: to.map((phoneNumber, i) => ({ recipientId: `r${i}`, phoneNumber })),
    text: 'hello',
    subject: null,
    media: [],
    attempt: 1,
    ...overrides,
  };
}

/** A server answering every request with `answer` (or never, with 'hang'). */
async function startServer(
  answer: { status: number; headers?: Record<string, string>; body?: string } | 'hang',
) {
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url?.includes('oauth2')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ access_token: `t-${Math.random()}`, expires_in: 3600 }));
    }
    if (answer === 'hang') return void open.add(res);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body ?? '{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('the token is cached until shortly before it expires, then fetched again', async () => {
  // The first test of this file: the process-wide cache holds no token for these credentials yet.
  let clock = Date.now();
  const connector = createBandwidthConnector({
    name: 'bw',
    settings: settings(),
    publicUrl: 'http://gw.test',
    now: () => clock,
  });
  const first = bw.tokenRequests();
  for (const to of ['+13125557001', '+13125557002', '+13125557003']) {
    const r = await connector.submit(submission([to]));
    assert.ok(r.ok);
    assert.equal(r.recipients[0]!.accepted, true);
  }
  assert.equal(bw.tokenRequests(), first + 1, 'one token for three submits');
  // A one-hour token is renewed a minute early.
  clock += 3_600_000 - 61_000;
  const still = await connector.submit(submission(['+13125557005']));
  assert.ok(still.ok);
  assert.equal(bw.tokenRequests(), first + 1, 'still valid 61 s before it expires');
  clock += 2_000;
  const later = await connector.submit(submission(['+13125557004']));
  assert.ok(later.ok);
  assert.equal(bw.tokenRequests(), first + 2);
});

test('202 → every recipient accepted awaiting sent, with the 29-character Bandwidth id; media as PUBLIC_URL links', async () => {
  const connector = createBandwidthConnector({
    name: 'bw',
    settings: settings(),
    publicUrl: 'http://gw.test',
  });
  const sha = 'a'.repeat(64);
  const r = await connector.submit(
    submission(['+13125557011', '+13125557012'], {
      media: [
        {
          url: 'https://x/y.png',
          contentType: 'image/png',
          size: 1,
          sha256: sha,
          read: async () => Buffer.alloc(1),
        },
      ],
    }),
  );
  assert.ok(r.ok);
  const id = (bw.submits.at(-1)!.answer.body as { id: string }).id;
  assert.equal(id.length, 29);
  assert.deepEqual(
    r.recipients.map((x) => x.accepted && [x.carrierMessageId, x.awaitingSent]),
    [
      [id, true],
      [id, true],
    ],
  );
  assert.deepEqual((bw.submits.at(-1)!.body as { media: string[] }).media, [`http://gw.test/media/${sha}`]);
});

test('HTTP 4xx is permanent with a mapped code; 429 and 5xx are retryable and honour Retry-After', async () => {
  const connector = createBandwidthConnector({
    name: 'bw',
    settings: settings(),
    publicUrl: 'http://gw.test',
  });
  bw.answerNext({ status: 429, retryAfterSeconds: 7 });
  const limited = await connector.submit(submission(['+13125557021']));
  assert.deepEqual(limited.ok ? null : [limited.retryable, limited.error.code, limited.retryAfterMs], [
    true,
    '10011',
    7000,
  ]);
  assert.match(limited.ok ? '' : (limited.error.detail ?? ''), /429: max-message-queue-size-exceeded/);

  bw.answerNext({ status: 503 });
  const down = await connector.submit(submission(['+13125557022']));
  assert.deepEqual(down.ok ? null : [down.retryable, down.error.code], [true, '40006']);

  bw.answerNext({ status: 403, type: 'forbidden', description: 'Access Denied' });
  const forbidden = await connector.submit(submission(['+13125557023']));
  assert.deepEqual(forbidden.ok ? null : [forbidden.retryable, forbidden.error.code], [false, '10009']);

  const eleven = Array.from({ length: 11 }, (_, i) => `+131255570${30 + i}`);
  const tooMany = await connector.submit(submission(eleven));
  assert.deepEqual(tooMany.ok ? null : [tooMany.retryable, tooMany.error.code], [false, '40009']);
  assert.match(
    tooMany.ok ? '' : (tooMany.error.detail ?? ''),
    /request-validation.*to: a group message has at most 10/,
  );
});

test('wrong client credentials are permanent 10009; a token endpoint that is down is retryable', async () => {
  const refused = createBandwidthConnector({
    name: 'bw',
    settings: settings({ clientSecret: 'wrong' }),
    publicUrl: 'http://gw.test',
  });
  const r = await refused.submit(submission(['+13125557051']));
  assert.deepEqual(r.ok ? null : [r.retryable, r.error.code], [false, '10009']);
  assert.ok(!JSON.stringify(r).includes('wrong'), 'the secret is not in the error');

  const unreachable = createBandwidthConnector({
    name: 'bw',
    settings: settings({ tokenUrl: await closedPortUrl('/token') }),
    publicUrl: 'http://gw.test',
  });
  const u = await unreachable.submit(submission(['+13125557052']));
  assert.deepEqual(u.ok ? null : [u.retryable, u.error.code], [true, '40006']);
});

test('no answer within the timeout, or the submission aborted, is a retryable failure and returns promptly', async () => {
  const server = await startServer('hang');
  try {
    const s = settings({
      baseUrl: `${server.url}/api/v2`,
      tokenUrl: `${server.url}/oauth2/token`,
      clientSecret: 'hang-1',
    });
    const slow = createBandwidthConnector({
      name: 'bw',
      settings: s,
      publicUrl: 'http://gw.test',
      timeoutMs: 300,
    });
    const timedOut = await slow.submit(submission(['+13125557061']));
    assert.deepEqual(timedOut.ok ? null : [timedOut.retryable, timedOut.error.code], [true, '40006']);
    assert.match(timedOut.ok ? '' : (timedOut.error.detail ?? ''), /no answer within 300 ms/);

    const patient = createBandwidthConnector({ name: 'bw', settings: s, publicUrl: 'http://gw.test' });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    const aborted = await patient.submit(submission(['+13125557062'], { signal: controller.signal }));
    assert.ok(!aborted.ok && aborted.retryable);
    assert.ok(Date.now() - started < 5_000, 'gave up when the signal fired');
  } finally {
    await server.close();
  }
});
