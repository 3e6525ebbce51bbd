import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Telnyx from 'telnyx';
import { issueApiKey } from '../../src/tenants/api-keys.ts';
import { createTenant, startTestGateway, type TestGateway } from '../support/gateway.ts';

/** 429 with Telnyx code 10011 and Retry-After: per API key, per organization, per address failing auth. */

async function get(gw: TestGateway, key: string) {
  const res = await fetch(`${gw.url}/v2/messaging_profiles`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as { errors?: Array<{ code: string }> };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.errors?.[0]?.code };
}

function assertRetryAfter(value: string | null, maxSeconds: number) {
  assert.match(value ?? '', /^\d+$/, 'Retry-After is whole seconds');
  const seconds = Number(value);
  assert.ok(seconds >= 1 && seconds <= maxSeconds, `Retry-After ${value} within the window`);
}

describe('per key and per organization', () => {
  let gw: TestGateway;
  before(async () => {
    // An hour-long window, so the test never straddles two windows.
    gw = await startTestGateway({
      env: { RATE_LIMIT_WINDOW_SECONDS: '3600', RATE_LIMIT_PER_KEY: '5', RATE_LIMIT_PER_ORG: '8' },
    });
  });
  after(() => gw?.close());

  test('the sixth request of a key in the window is 429 10011 with Retry-After; other keys and orgs go on', async () => {
    const t = await createTenant(gw.store);
    for (let i = 0; i < 5; i++) assert.equal((await get(gw, t.apiKey)).status, 200, `request ${i + 1}`);
    const refused = await get(gw, t.apiKey);
    assert.equal(refused.status, 429);
    assert.equal(refused.code, '10011');
    assertRetryAfter(refused.retryAfter, 3600);

    // A second key of the same organization has its own five, but the organization only 8 in all.
    const second = await issueApiKey(gw.store, t.organizationId);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(gw, second)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);

    // Another organization is not affected.
    const other = await createTenant(gw.store);
    assert.equal((await get(gw, other.apiKey)).status, 200);
  });

  test('the official SDK sees a RateLimitError with code 10011', async () => {
    const t = await createTenant(gw.store);
    const client = new Telnyx({ apiKey: t.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0 });
    for (let i = 0; i < 5; i++) await client.messagingProfiles.list();
    await assert.rejects(client.messagingProfiles.list(), (err: unknown) => {
      assert.ok(err instanceof Telnyx.RateLimitError);
      assert.equal((err.error as { errors: Array<{ code: string }> }).errors[0]!.code, '10011');
      assert.match(err.headers.get('retry-after') ?? '', /^\d+$/);
      return true;
    });
  });

  test('sends are limited too', async () => {
    const t = await createTenant(gw.store);
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: t.numbers[0], to: ['+13125550100'], text: `n${i}` }),
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  });
});

describe('failed authentication', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ env: { AUTH_FAILURES_PER_IP_PER_MINUTE: '5' } });
  });
  after(() => gw?.close());

  test('an address that failed too often is refused with 429 before its key is looked at', async () => {
    for (let i = 0; i < 5; i++) {
      const bad = await get(gw, `KEYnot-a-key-${i}`);
      assert.equal(bad.status, 401);
      assert.equal(bad.code, '10009');
    }
    const flooded = await get(gw, 'KEYnot-a-key-again');
    assert.equal(flooded.status, 429);
    assert.equal(flooded.code, '10011');
    assertRetryAfter(flooded.retryAfter, 60);
    // Refused from memory: even a good key from this address waits out the minute.
    assert.equal((await get(gw, gw.apiKey)).status, 429);
  });
});
