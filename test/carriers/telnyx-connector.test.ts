import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectorBuilder } from '../../src/carriers/build-connector.ts';
import { checkConnectorSettings, redactSettings } from '../../src/carriers/connector-settings.ts';
import { createTelnyxConnector } from '../../src/carriers/telnyx/index.ts';
import type { CarrierSubmission, SubmitResult } from '../../src/carriers/types.ts';
import { freePort } from '../support/free-port.ts';

/** The telnyx connector's submit against a real HTTP server on 127.0.0.1 that answers as told. */

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(500, 7)]);
const sha = createHash('sha256').update(PNG).digest('hex');
const PUBLIC_URL = 'https://gw.example.test';

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}
type Answer = { status: number; headers?: Record<string, string>; body?: unknown; hang?: boolean };

let server: http.Server;
let base: string;
let answer: Answer = { status: 200 };
const seen: Seen[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
      });
      if (answer.hang) return;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function submission(overrides: Partial<CarrierSubmission> = {}): CarrierSubmission {
  return {
    idempotencyKey: 'msg-1',
    messageId: 'msg-1',
    from: '+13125550001',
    recipients: [
      { recipientId: 'r1', phoneNumber: '+13125550100' },
      { recipientId: 'r2', phoneNumber: '+13125550200' },
    ],
    text: 'Hello group',
    subject: 'Plans',
    media: [
      {
        url: 'https://tenant.example/a.png',
        contentType: 'image/png',
        size: PNG.length,
        sha256: sha,
        read: async () => PNG,
      },
    ],
    attempt: 1,
    ...overrides,
  };
}

const connector = (extra: { timeoutMs?: number; messagingProfileId?: string } = {}) =>
  createTelnyxConnector({ name: 'up', apiKey: 'KEY-secret', baseUrl: base, publicUrl: PUBLIC_URL, ...extra });

describe('telnyx connector submit', () => {
  it('posts one group_mms with our media links and webhook URL; every recipient waits for message.sent', async () => {
    answer = { status: 200, body: { data: { id: 'upstream-group-1', to: [] } } };
    seen.length = 0;
    const result = await connector({ messagingProfileId: 'prof-9' }).submit(submission());
    assert.deepEqual(result, {
      ok: true,
      recipients: [
        { recipientId: 'r1', accepted: true, carrierMessageId: 'upstream-group-1', awaitingSent: true },
        { recipientId: 'r2', accepted: true, carrierMessageId: 'upstream-group-1', awaitingSent: true },
      ],
    });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.path, '/v2/messages/group_mms');
    assert.equal(seen[0]!.headers.authorization, 'Bearer KEY-secret');
    assert.equal(seen[0]!.headers['idempotency-key'], 'msg-1');
    assert.deepEqual(seen[0]!.body, {
      from: '+13125550001',
      to: ['+13125550100', '+13125550200'],
      text: 'Hello group',
      subject: 'Plans',
      media_urls: [`${PUBLIC_URL}/media/${sha}`],
      webhook_url: `${PUBLIC_URL}/connectors/up/webhooks`,
      messaging_profile_id: 'prof-9',
    });
  });

  it('an upstream 4xx is permanent and keeps the upstream Telnyx error', async () => {
    answer = {
      status: 422,
      body: {
        errors: [{ code: '40305', title: 'Invalid from address', detail: 'The from number is not yours.' }],
      },
    };
    const result = await connector().submit(submission({ media: [], subject: null }));
    assert.equal(result.ok, false);
    const failure = result as Extract<SubmitResult, { ok: false }>;
    assert.equal(failure.retryable, false);
    assert.equal(failure.error.code, '40305');
    assert.equal(failure.error.title, 'Invalid from address');
    assert.equal(failure.error.detail, 'The from number is not yours.');
    assert.equal(failure.retryAfterMs, undefined);
    assert.equal('media_urls' in seen.at(-1)!.body, false);
    assert.equal('subject' in seen.at(-1)!.body, false);
  });

  it('401 without a Telnyx body is permanent 10009', async () => {
    answer = { status: 401, body: 'nope' };
    const result = (await connector().submit(submission())) as Extract<SubmitResult, { ok: false }>;
    assert.deepEqual([result.ok, result.retryable, result.error.code], [false, false, '10009']);
  });

  it('429 and 5xx are retryable and honour Retry-After', async () => {
    answer = {
      status: 429,
      headers: { 'retry-after': '7' },
      body: { errors: [{ code: '10011', title: 'Too many requests' }] },
    };
    const limited = (await connector().submit(submission())) as Extract<SubmitResult, { ok: false }>;
    assert.deepEqual(
      [limited.ok, limited.retryable, limited.retryAfterMs, limited.error.code],
      [false, true, 7000, '10011'],
    );
    answer = { status: 503 };
    const down = (await connector().submit(submission())) as Extract<SubmitResult, { ok: false }>;
    assert.deepEqual([down.ok, down.retryable, down.error.code], [false, true, '40006']);
  });

  it('a 2xx without a message id is retryable (the Idempotency-Key keeps the retry safe)', async () => {
    answer = { status: 200, body: { data: {} } };
    const result = (await connector().submit(submission())) as Extract<SubmitResult, { ok: false }>;
    assert.deepEqual([result.ok, result.retryable, result.error.code], [false, true, '40006']);
  });

  it('a timeout, an abort and a refused connection are retryable', async () => {
    answer = { status: 200, hang: true };
    const slow = (await connector({ timeoutMs: 200 }).submit(submission())) as Extract<
      SubmitResult,
      { ok: false }
    >;
    assert.deepEqual([slow.ok, slow.retryable, slow.error.code], [false, true, '40006']);
    assert.match(slow.error.detail ?? '', /no answer within 200 ms/);

    const stop = new AbortController();
    const started = Date.now();
    const pending = connector().submit(submission({ signal: stop.signal }));
    setTimeout(() => stop.abort(), 50);
    const aborted = (await pending) as Extract<SubmitResult, { ok: false }>;
    assert.deepEqual([aborted.ok, aborted.retryable], [false, true]);
    assert.ok(Date.now() - started < 5_000, 'gave up the request when aborted');

    const closed = `http://127.0.0.1:${await freePort()}/v2`;
    const refused = (await createTelnyxConnector({
      name: 'up',
      apiKey: 'k',
      baseUrl: closed,
      publicUrl: PUBLIC_URL,
    }).submit(submission())) as Extract<SubmitResult, { ok: false }>;
    assert.deepEqual([refused.ok, refused.retryable, refused.error.code], [false, true, '40006']);
  });
});

describe('telnyx connector settings', () => {
  const publicKey = Buffer.alloc(32, 1).toString('base64');

  it('checks the settings, defaults the base URL and never shows the API key', () => {
    const check = checkConnectorSettings('telnyx', { apiKey: 'KEY-secret', publicKey });
    assert.ok(check.ok);
    assert.equal(check.settings.baseUrl, 'https://api.telnyx.com/v2');
    assert.deepEqual(redactSettings(check.settings), {
      apiKeySet: true,
      publicKey,
      baseUrl: 'https://api.telnyx.com/v2',
    });
    const bad = checkConnectorSettings('telnyx', { apiKey: 'KEY-secret', publicKey: 'short', url: 'x' });
    assert.equal(bad.ok, false);
    assert.ok(!JSON.stringify(bad).includes('KEY-secret'));
  });

  it('a node without PUBLIC_URL refuses to submit (retryable, saying why) instead of sending unreported', async () => {
    const build = connectorBuilder({
      simulator: {} as never,
      publicUrl: undefined,
    });
    const c = build({
      name: 'up',
      type: 'telnyx',
      settings: { apiKey: 'k', publicKey, baseUrl: base },
      created_at: '',
      updated_at: '',
    });
    seen.length = 0;
    const result = (await c.submit(submission())) as Extract<SubmitResult, { ok: false }>;
    assert.deepEqual([result.ok, result.retryable], [false, true]);
    assert.match(result.error.detail ?? '', /PUBLIC_URL/);
    assert.equal(seen.length, 0, 'nothing was sent upstream');
  });
});
