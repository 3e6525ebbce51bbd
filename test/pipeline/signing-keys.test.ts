import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import {
  ensureOrganizationSigningKeys,
  rotateSigningKey,
} from '../../src/webhooks/organization-signing-keys.ts';
import { createTenant, type Tenant, type TestGateway } from '../support/gateway.ts';
import { startPipelineGateway } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  type ReceivedRequest,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

/**
 * Each organization's webhooks are signed with its own key, which GET /v2/public_key answers to it;
 * a rotation publishes the next key ahead of the switch. Verified with the official SDK.
 */

interface Published {
  public_key: string;
  public_keys: Array<{ public_key: string; status: string; active_from: string; retired_at: string | null }>;
}

let gw: TestGateway;
let receiver: WebhookReceiver;
const telnyx = new Telnyx({ apiKey: 'x' });

before(async () => {
  gw = await startPipelineGateway();
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
});

after(async () => {
  await gw?.close();
  await receiver?.close();
});

async function publishedKeys(tenant: Pick<Tenant, 'apiKey'>): Promise<Published> {
  const res = await fetch(`${gw.url}/v2/public_key`, {
    headers: { authorization: `Bearer ${tenant.apiKey}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: Published }).data;
}

/** Sends a one-recipient message as `tenant` and returns its sent and finalized webhooks. */
async function webhooksOf(tenant: Tenant, text: string): Promise<ReceivedRequest[]> {
  const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: tenant.numbers[0], to: ['+13125550100'], text, webhook_url: receiver.url }),
  });
  assert.equal(res.status, 200);
  const id = ((await res.json()) as { data: { id: string } }).data.id;
  return waitFor(
    () => {
      const mine = receiver.received.filter((r) => r.rawBody.includes(id));
      return mine.length >= 2 ? mine : null;
    },
    { description: `both webhooks of ${id}` },
  );
}

const verifies = async (r: ReceivedRequest, key: string) => {
  try {
    await telnyx.webhooks.unwrap(r.rawBody, { headers: r.headers, key });
    return true;
  } catch {
    return false;
  }
};

test("each organization's webhooks verify with its own key and not with another's", async () => {
  const a = await createTenant(gw.store);
  const b = await createTenant(gw.store);
  const keyA = (await publishedKeys(a)).public_key;
  const keyB = (await publishedKeys(b)).public_key;
  assert.notEqual(keyA, keyB);

  const fromA = await webhooksOf(a, 'from A');
  const fromB = await webhooksOf(b, 'from B');
  for (const r of fromA) {
    await telnyx.webhooks.unwrap(r.rawBody, { headers: r.headers, key: keyA });
    // A's genuinely signed event replayed to B's endpoint is refused with B's key.
    await assert.rejects(telnyx.webhooks.unwrap(r.rawBody, { headers: r.headers, key: keyB }), /signature/i);
  }
  for (const r of fromB) {
    await telnyx.webhooks.unwrap(r.rawBody, { headers: r.headers, key: keyB });
    await assert.rejects(telnyx.webhooks.unwrap(r.rawBody, { headers: r.headers, key: keyA }), /signature/i);
  }
});

test('a rotation publishes both keys during the overlap and switches signing at its end', async () => {
  const t = await createTenant(gw.store);
  const oldKey = (await publishedKeys(t)).public_key;
  const overlapMs = 3_000;
  const next = await rotateSigningKey(gw.store, t.organizationId, overlapMs);
  const switchAt = Date.parse(next.active_from);

  const during = await publishedKeys(t);
  assert.equal(during.public_key, oldKey, 'the old key still signs during the overlap');
  assert.deepEqual(
    during.public_keys.map((k) => [k.public_key, k.status]),
    [
      [oldKey, 'active'],
      [next.public_key, 'next'],
    ],
  );
  assert.equal(during.public_keys[0]!.retired_at !== null, true, 'the old key has a retirement time');

  const early = await webhooksOf(t, 'during the overlap');
  await waitFor(() => Date.now() > switchAt + 1_000 || null, { description: 'the switch' });
  const after = await publishedKeys(t);
  assert.equal(after.public_key, next.public_key);
  assert.deepEqual(
    after.public_keys.map((k) => [k.public_key, k.status]),
    [
      [oldKey, 'retiring'],
      [next.public_key, 'active'],
    ],
    'the old key stays published a little while nodes may still hold it',
  );
  const late = await webhooksOf(t, 'after the switch');

  // Each event verifies with the key that was signing at its timestamp (in the second of the switch,
  // either).
  const switchSecond = Math.floor(switchAt / 1000);
  for (const r of [...early, ...late]) {
    const ts = Number(r.headers['telnyx-timestamp']);
    const withOld = await verifies(r, oldKey);
    const withNew = await verifies(r, next.public_key);
    assert.ok(withOld !== withNew, 'signed with exactly one of the two keys');
    if (ts < switchSecond)
      assert.ok(withOld, `signed at ${ts}, before the switch at ${switchSecond}: old key`);
    if (ts > switchSecond)
      assert.ok(withNew, `signed at ${ts}, after the switch at ${switchSecond}: new key`);
  }
  assert.ok(late.some((r) => Number(r.headers['telnyx-timestamp']) > switchSecond));
});

test('an organization created without a key (before per-organization keys) gets one at start', async () => {
  const id = randomUUID();
  await gw.store.organizations.create({ id, name: 'Legacy', created_at: new Date().toISOString() });
  assert.equal(await ensureOrganizationSigningKeys(gw.store), 1);
  assert.equal(await ensureOrganizationSigningKeys(gw.store), 0);
  const keys = await gw.store.organizationSigningKeys.listUnretired(id, new Date().toISOString());
  assert.equal(keys.length, 1);
});
