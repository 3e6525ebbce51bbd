import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createTenant,
  makeTempDir,
  startTestGateway,
  type Tenant,
  type TestGateway,
} from '../support/gateway.ts';

/**
 * Accept-time guards of POST /v2/messages/group_mms: Telnyx's daily spend limit (40333) and our
 * Idempotency-Key (Stripe's semantics). "Nothing stored" is checked through the work queue: this
 * gateway runs no workers, so every stored message leaves exactly one job behind.
 */

let gw: TestGateway;
const ratesDir = makeTempDir('rates-');

before(async () => {
  const rates = path.join(ratesDir, 'rates.json');
  fs.writeFileSync(rates, JSON.stringify({ currency: 'USD', rates: [{ prefix: '+1', amount: '0.0150' }] }));
  gw = await startTestGateway({ env: { RATE_TABLE_FILE: rates } });
});

after(async () => {
  await gw?.close();
  fs.rmSync(ratesDir, { recursive: true, force: true });
});

async function post(
  tenant: Pick<Tenant, 'apiKey'>,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as {
      data?: { id: string; cost: { amount: string } | null };
      errors?: Array<{ code: string; detail: string; source?: Record<string, string> }>;
    },
  };
}

async function patchProfile(tenant: Tenant, data: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/v2/messaging_profiles/${tenant.profileId}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
  assert.equal(res.status, 200, await res.text());
}

const TO3 = ['+13125550100', '+13125550101', '+13125550104'];

describe('daily spend limit', () => {
  test('a message that would pass the enabled limit is refused with 40333 and nothing is stored', async () => {
    const t = await createTenant(gw.store);
    await patchProfile(t, { daily_spend_limit: '0.05', daily_spend_limit_enabled: true });
    const jobs = await gw.store.jobs.count();

    const first = await post(t, { from: t.numbers[0], to: TO3, text: 'three at 0.015' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.data!.cost!.amount, '0.0450');

    const over = await post(t, { from: t.numbers[0], to: ['+13125550100'], text: 'one more: 0.06 > 0.05' });
    assert.equal(over.status, 400);
    assert.equal(over.body.errors![0]!.code, '40333');
    assert.match(over.body.errors![0]!.detail, /daily spend limit of 0\.05/);
    assert.equal(await gw.store.jobs.count(), jobs + 1, 'only the first message was stored');
    const day = new Date().toISOString().slice(0, 10);
    assert.equal(await gw.store.spend.spent(t.profileId, day), 45_000, 'the refused cost was not added');

    // Raising the limit lets the same message through.
    await patchProfile(t, { daily_spend_limit: '0.06' });
    const now = await post(t, { from: t.numbers[0], to: ['+13125550100'], text: 'fits now' });
    assert.equal(now.status, 200);
    assert.equal(await gw.store.spend.spent(t.profileId, day), 60_000);
  });

  test('a disabled limit refuses nothing', async () => {
    const t = await createTenant(gw.store);
    await patchProfile(t, { daily_spend_limit: '0.01', daily_spend_limit_enabled: false });
    const res = await post(t, { from: t.numbers[0], to: TO3, text: 'no limit' });
    assert.equal(res.status, 200);
  });

  test('concurrent messages never pass the limit together', async () => {
    const t = await createTenant(gw.store);
    await patchProfile(t, { daily_spend_limit: '0.10', daily_spend_limit_enabled: true });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(t, { from: t.numbers[0], to: ['+13125550100'], text: `c${i}` }),
      ),
    );
    // 0.10 / 0.015 = 6.67: six fit.
    assert.equal(results.filter((r) => r.status === 200).length, 6);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.body.errors![0]!.code === '40333'));
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body return the first response without storing a second message', async () => {
    const t = await createTenant(gw.store);
    const body = { from: t.numbers[0], to: TO3, text: 'once only' };
    const jobs = await gw.store.jobs.count();
    const first = await post(t, body, { 'idempotency-key': 'order-1' });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    // Same body, keys in another order: the same request.
    const again = await post(
      t,
      { text: 'once only', to: TO3, from: t.numbers[0] },
      { 'idempotency-key': 'order-1' },
    );
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    assert.equal(await gw.store.jobs.count(), jobs + 1);

    // Keys are per organization: another organization's identical key is its own.
    const other = await createTenant(gw.store);
    const theirs = await post(other, { ...body, from: other.numbers[0] }, { 'idempotency-key': 'order-1' });
    assert.equal(theirs.status, 200);
    assert.notEqual(theirs.body.data!.id, first.body.data!.id);
  });

  test('the same key with another body is refused with 422 10027 and stores nothing', async () => {
    const t = await createTenant(gw.store);
    const first = await post(t, { from: t.numbers[0], to: TO3, text: 'first' }, { 'idempotency-key': 'k-2' });
    assert.equal(first.status, 200);
    const jobs = await gw.store.jobs.count();
    const other = await post(
      t,
      { from: t.numbers[0], to: TO3, text: 'second' },
      { 'idempotency-key': 'k-2' },
    );
    assert.equal(other.status, 422);
    assert.equal(other.body.errors![0]!.code, '10027');
    assert.deepEqual(other.body.errors![0]!.source, { parameter: 'Idempotency-Key' });
    assert.match(other.body.errors![0]!.detail, /different request body/);
    assert.equal(await gw.store.jobs.count(), jobs);
  });

  test('a malformed key is 400 10015', async () => {
    const t = await createTenant(gw.store);
    const res = await post(
      t,
      { from: t.numbers[0], to: TO3, text: 'x' },
      { 'idempotency-key': 'x'.repeat(256) },
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.errors![0]!.code, '10015');
  });

  test('concurrent duplicates store one message and all get its response', async () => {
    const t = await createTenant(gw.store);
    const body = { from: t.numbers[0], to: TO3, text: 'raced' };
    const jobs = await gw.store.jobs.count();
    const results = await Promise.all(
      Array.from({ length: 16 }, () => post(t, body, { 'idempotency-key': 'race-1' })),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      results.map(() => 200),
    );
    assert.equal(new Set(results.map((r) => r.body.data!.id)).size, 1);
    assert.equal(results.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1);
    assert.equal(await gw.store.jobs.count(), jobs + 1);
  });

  test('a replay is not charged to the spend limit again', async () => {
    const t = await createTenant(gw.store);
    await patchProfile(t, { daily_spend_limit: '0.05', daily_spend_limit_enabled: true });
    const body = { from: t.numbers[0], to: TO3, text: 'paid once' };
    for (let i = 0; i < 3; i++)
      assert.equal((await post(t, body, { 'idempotency-key': 'pay-1' })).status, 200);
    assert.equal(await gw.store.spend.spent(t.profileId, new Date().toISOString().slice(0, 10)), 45_000);
  });
});
