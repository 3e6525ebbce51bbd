import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import Telnyx from 'telnyx';
import { buildEnvelope } from '../../src/webhooks/envelope.ts';
import {
  createSigner,
  defaultSigningEngine,
  generateSigningKeyPair,
  publicKeyFromPrivate,
} from '../../src/webhooks/signing.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);

const rawBody = buildEnvelope({
  id: '86f58db9-0fe3-4adc-9d1f-46e66e6e9323',
  eventType: 'message.sent',
  occurredAt: new Date('2019-01-23T18:10:02.574Z'),
  payload: { id: '40385f64-5717-4562-b3fc-2c963f66afa6', record_type: 'message', text: 'héllo 👋' },
  attempt: 1,
  deliveredTo: 'https://www.example.com/hooks',
});

describe('webhook signing', () => {
  const keys = generateSigningKeyPair();
  const sign = createSigner(keys.privateKeyPem);
  const client = new Telnyx({ apiKey: 'x', publicKey: keys.publicKey });

  test('the public key is base64 of the raw 32-byte key and is derivable from the private key', () => {
    assert.equal(Buffer.from(keys.publicKey, 'base64').length, 32);
    assert.equal(publicKeyFromPrivate(keys.privateKeyPem), keys.publicKey);
    assert.match(keys.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  test('the official SDK verifies our signature and returns the parsed event', async () => {
    const headers = { ...sign(rawBody, nowSeconds()) };
    const event = await client.webhooks.unwrap(rawBody, { headers, key: keys.publicKey });
    assert.deepEqual(event, JSON.parse(rawBody));
  });

  test('the SDK also verifies with the key configured on the client', async () => {
    const headers = { ...sign(rawBody, nowSeconds()) };
    await client.webhooks.unwrap(rawBody, { headers });
  });

  test('the signature is Ed25519 over "timestamp|body"', () => {
    const timestamp = 1_700_000_000;
    const headers = sign(rawBody, timestamp);
    assert.equal(headers['telnyx-timestamp'], '1700000000');
    const spki = Buffer.concat([
      Buffer.from('302a300506032b6570032100', 'hex'),
      Buffer.from(keys.publicKey, 'base64'),
    ]);
    const signature = Buffer.from(headers['telnyx-signature-ed25519'], 'base64');
    const message = Buffer.from(`${timestamp}|${rawBody}`, 'utf8');
    assert.ok(verify(null, message, { key: spki, format: 'der', type: 'spki' }, signature));
  });

  test('libsodium and Node’s crypto make the same signatures; libsodium signs where its binary ships', () => {
    if (process.platform === 'linux' && process.arch === 'x64') assert.equal(defaultSigningEngine, 'sodium');
    const viaSodium = createSigner(keys.privateKeyPem, 'sodium');
    const viaNode = createSigner(keys.privateKeyPem, 'node');
    for (const [body, timestamp] of [
      [rawBody, 1_700_000_000],
      ['', 0],
      ['{"a":"héllo 👋"}', 1_800_000_123],
    ] as const) {
      assert.deepEqual(viaSodium(body, timestamp), viaNode(body, timestamp));
    }
  });

  test('the SDK rejects a tampered body', async () => {
    const headers = { ...sign(rawBody, nowSeconds()) };
    const tampered = rawBody.replace('"attempt":1', '"attempt":2');
    assert.notEqual(tampered, rawBody);
    await assert.rejects(
      client.webhooks.unwrap(tampered, { headers, key: keys.publicKey }),
      /signature does not match/,
    );
  });

  test('the SDK rejects a timestamp header other than the one signed', async () => {
    const signedAt = nowSeconds();
    const headers = { ...sign(rawBody, signedAt), 'telnyx-timestamp': String(signedAt - 1) };
    await assert.rejects(
      client.webhooks.unwrap(rawBody, { headers, key: keys.publicKey }),
      /signature does not match/,
    );
  });

  test('the SDK accepts timestamps within 5 minutes and rejects older ones', async () => {
    const fresh = { ...sign(rawBody, nowSeconds() - 290) };
    await client.webhooks.unwrap(rawBody, { headers: fresh, key: keys.publicKey });
    const stale = { ...sign(rawBody, nowSeconds() - 310) };
    await assert.rejects(
      client.webhooks.unwrap(rawBody, { headers: stale, key: keys.publicKey }),
      /too old or too new/,
    );
  });

  test('the SDK rejects a signature made with another key', async () => {
    const other = createSigner(generateSigningKeyPair().privateKeyPem);
    const headers = { ...other(rawBody, nowSeconds()) };
    await assert.rejects(
      client.webhooks.unwrap(rawBody, { headers, key: keys.publicKey }),
      /signature does not match/,
    );
  });

  test('non-integer timestamps and non-Ed25519 keys are refused', () => {
    assert.throws(() => sign(rawBody, 1_700_000_000.5), RangeError);
    assert.throws(() => sign(rawBody, -1), RangeError);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => createSigner(ecPem), /expected an ed25519 private key, got ec/);
    assert.throws(() => publicKeyFromPrivate(ecPem), /expected an ed25519/);
  });
});
