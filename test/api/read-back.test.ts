import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  addNumber,
  createTenant,
  startTestGateway,
  type Tenant,
  type TestGateway,
} from '../support/gateway.ts';

/** What the API gives back after a send and for profiles and numbers, over real HTTP. */

let gw: TestGateway;

type Json = Record<string, unknown>;

async function call(
  method: string,
  path: string,
  body?: unknown,
  apiKey = gw.apiKey,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function ok(method: string, path: string, body?: unknown, apiKey?: string): Promise<Json> {
  const res = await call(method, path, body, apiKey);
  assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

before(async () => {
  gw = await startTestGateway();
});

after(async () => {
  await gw?.close();
});

describe('messages', () => {
  const to = ['+13125550100', '+12065559123', '+13125550102'];
  let sent: Json;
  let groupList: Json[];

  before(async () => {
    sent = (
      await ok('POST', '/v2/messages/group_mms', {
        from: gw.numbers[1],
        to,
        text: 'read me back',
        subject: 'subj',
        media_urls: ['https://media.example.com/one.png'],
      })
    ).data as Json;
    groupList = (await ok('GET', `/v2/messages/group/${sent.id}`)).data as Json[];
  });

  test('GET /v2/messages/{id} returns the group message as the POST did', async () => {
    const got = (await ok('GET', `/v2/messages/${sent.id}`)).data as Json;
    assert.deepEqual(got, sent);
    assert.deepEqual(
      (got.to as Json[]).map((t) => t.phone_number),
      to,
    );
  });

  test('GET /v2/messages/group/{id} returns one record per recipient', () => {
    assert.equal(groupList.length, to.length);
    const ids = new Set(groupList.map((m) => m.id));
    assert.equal(ids.size, to.length, 'recipient ids must be distinct');
    assert.ok(!ids.has(sent.id), 'a recipient record has its own id');
    groupList.forEach((m, i) => {
      assert.match(m.id as string, /^[0-9a-f-]{36}$/);
      assert.equal(m.group_message_id, sent.id);
      assert.deepEqual(m.to, [(sent.to as Json[])[i]]);
      assert.equal(m.text, 'read me back');
      assert.equal(m.subject, 'subj');
      assert.deepEqual(m.from, sent.from);
      assert.deepEqual(m.media, sent.media);
      assert.equal(m.received_at, sent.received_at);
      assert.equal(m.record_type, 'message');
    });
  });

  test("GET /v2/messages/{recipient_id} returns that recipient's record", async () => {
    for (const record of groupList) {
      const got = (await ok('GET', `/v2/messages/${record.id}`)).data as Json;
      assert.deepEqual(got, record);
    }
  });

  test('unknown or malformed ids → 404 10005', async () => {
    for (const path of [
      '/v2/messages/00000000-0000-4000-8000-000000000000',
      '/v2/messages/not-a-uuid',
      '/v2/messages/group/00000000-0000-4000-8000-000000000000',
      `/v2/messages/group/${groupList[0]!.id}`,
    ]) {
      const res = await call('GET', path);
      assert.equal(res.status, 404, path);
      assert.equal((res.body.errors as Json[])[0]!.code, '10005');
    }
  });
});

describe('messaging profiles', () => {
  test('create, retrieve, update, list and delete', async () => {
    const created = (
      await ok('POST', '/v2/messaging_profiles', {
        name: 'Read-back profile',
        whitelisted_destinations: ['US', 'CA'],
        webhook_url: 'https://hooks.example.com/p',
      })
    ).data as Json;
    assert.equal(created.record_type, 'messaging_profile');
    assert.equal(created.name, 'Read-back profile');
    assert.equal(created.organization_id, gw.organizationId);
    assert.deepEqual(created.whitelisted_destinations, ['US', 'CA']);
    assert.equal(created.webhook_url, 'https://hooks.example.com/p');
    assert.equal(created.enabled, true);
    assert.equal(created.webhook_api_version, '2');

    assert.deepEqual((await ok('GET', `/v2/messaging_profiles/${created.id}`)).data, created);

    const updated = (
      await ok('PATCH', `/v2/messaging_profiles/${created.id}`, {
        name: 'Renamed',
        enabled: false,
        webhook_url: '',
      })
    ).data as Json;
    assert.equal(updated.name, 'Renamed');
    assert.equal(updated.enabled, false);
    assert.equal(updated.webhook_url, null);
    assert.deepEqual(updated.whitelisted_destinations, ['US', 'CA'], 'fields not sent are kept');
    assert.equal(updated.created_at, created.created_at);
    assert.ok((updated.updated_at as string) >= (created.updated_at as string));
    assert.deepEqual((await ok('GET', `/v2/messaging_profiles/${created.id}`)).data, updated);

    const listed = (await ok('GET', '/v2/messaging_profiles?page[size]=250')).data as Json[];
    assert.deepEqual(
      listed.find((p) => p.id === created.id),
      updated,
    );

    const deleted = (await ok('DELETE', `/v2/messaging_profiles/${created.id}`)).data as Json;
    assert.equal(deleted.id, created.id);
    assert.equal((await call('GET', `/v2/messaging_profiles/${created.id}`)).status, 404);
    const after = (await ok('GET', '/v2/messaging_profiles?page[size]=250')).data as Json[];
    assert.ok(!after.some((p) => p.id === created.id));
  });

  test('a bad profile body → 400 with a pointer', async () => {
    const res = await call('POST', '/v2/messaging_profiles', {
      name: 'x',
      whitelisted_destinations: ['usa'],
    });
    assert.equal(res.status, 400);
    assert.equal(((res.body.errors as Json[])[0]!.source as Json).pointer, '/whitelisted_destinations/0');
  });

  test('pagination: page[number], page[size], total_pages, total_results', async () => {
    const tenant: Tenant = await createTenant(gw.store);
    for (let i = 0; i < 6; i++) {
      await ok(
        'POST',
        '/v2/messaging_profiles',
        { name: `P${i}`, whitelisted_destinations: ['*'] },
        tenant.apiKey,
      );
    }
    // 7 profiles: the tenant's own and 6 more.
    const seen: string[] = [];
    for (const [page, expected] of [
      [1, 3],
      [2, 3],
      [3, 1],
      [4, 0],
    ] as const) {
      const body = await ok(
        'GET',
        `/v2/messaging_profiles?page[number]=${page}&page[size]=3`,
        undefined,
        tenant.apiKey,
      );
      assert.deepEqual(body.meta, { page_number: page, page_size: 3, total_pages: 3, total_results: 7 });
      assert.equal((body.data as Json[]).length, expected);
      seen.push(...(body.data as Json[]).map((p) => p.id as string));
    }
    assert.equal(new Set(seen).size, 7);
    assert.ok(seen.includes(tenant.profileId));

    const defaults = await ok('GET', '/v2/messaging_profiles', undefined, tenant.apiKey);
    assert.deepEqual(defaults.meta, { page_number: 1, page_size: 20, total_pages: 1, total_results: 7 });

    for (const bad of ['page[size]=0', 'page[size]=251', 'page[number]=0', 'page[number]=x']) {
      const res = await call('GET', `/v2/messaging_profiles?${bad}`, undefined, tenant.apiKey);
      assert.equal(res.status, 400, bad);
      assert.equal((res.body.errors as Json[])[0]!.code, '10015');
    }
  });
});

describe('phone numbers', () => {
  test('PATCH attaches and detaches; the profile lists its numbers', async () => {
    const profile = (
      await ok('POST', '/v2/messaging_profiles', { name: 'Numbers', whitelisted_destinations: ['*'] })
    ).data as Json;
    const listPath = `/v2/messaging_profiles/${profile.id}/phone_numbers`;
    const listed = async () => (await ok('GET', listPath)).data as Json[];
    assert.deepEqual(await listed(), []);

    const n1 = await addNumber(gw.store, gw.organizationId, null);
    const n2 = await addNumber(gw.store, gw.organizationId, null);

    // By id, then by the number itself.
    const attached = (
      await ok('PATCH', `/v2/phone_numbers/${n1.id}/messaging`, { messaging_profile_id: profile.id })
    ).data as Json;
    assert.equal(attached.record_type, 'messaging_settings');
    assert.equal(attached.id, n1.id);
    assert.equal(attached.phone_number, n1.phone_number);
    assert.equal(attached.messaging_profile_id, profile.id);
    assert.equal(attached.country_code, 'US');
    await ok('PATCH', `/v2/phone_numbers/${encodeURIComponent(n2.phone_number)}/messaging`, {
      messaging_profile_id: profile.id,
    });
    assert.deepEqual(
      (await listed()).map((n) => n.phone_number),
      [n1.phone_number, n2.phone_number].sort(),
    );

    // The attached number can send.
    const sent = await call('POST', '/v2/messages/group_mms', {
      from: n1.phone_number,
      to: ['+13125550100'],
      text: 'x',
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal((sent.body.data as Json).messaging_profile_id, profile.id);

    // null keeps, tags update.
    const kept = (
      await ok('PATCH', `/v2/phone_numbers/${n1.id}/messaging`, { messaging_profile_id: null, tags: ['t'] })
    ).data as Json;
    assert.equal(kept.messaging_profile_id, profile.id);
    assert.deepEqual(kept.tags, ['t']);

    // "" detaches.
    const detached = (await ok('PATCH', `/v2/phone_numbers/${n1.id}/messaging`, { messaging_profile_id: '' }))
      .data as Json;
    assert.equal(detached.messaging_profile_id, null);
    assert.deepEqual(
      (await listed()).map((n) => n.phone_number),
      [n2.phone_number],
    );
    const got = (await ok('GET', `/v2/phone_numbers/${n1.id}/messaging`)).data as Json;
    assert.equal(got.messaging_profile_id, null);
    assert.deepEqual(got.tags, ['t']);

    // A detached number cannot send.
    const refused = await call('POST', '/v2/messages/group_mms', {
      from: n1.phone_number,
      to: ['+13125550100'],
      text: 'x',
    });
    assert.equal(refused.status, 400);
    assert.equal((refused.body.errors as Json[])[0]!.code, '40305');
  });

  test('listing profile numbers paginates', async () => {
    const profile = (
      await ok('POST', '/v2/messaging_profiles', { name: 'Many', whitelisted_destinations: ['*'] })
    ).data as Json;
    for (let i = 0; i < 5; i++) await addNumber(gw.store, gw.organizationId, profile.id as string);
    const page = await ok(
      'GET',
      `/v2/messaging_profiles/${profile.id}/phone_numbers?page[number]=2&page[size]=2`,
    );
    assert.deepEqual(page.meta, { page_number: 2, page_size: 2, total_pages: 3, total_results: 5 });
    assert.equal((page.data as Json[]).length, 2);
  });

  test('attaching to an unknown profile → 404 with the pointer; unknown number → 404', async () => {
    const n = await addNumber(gw.store, gw.organizationId, null);
    const res = await call('PATCH', `/v2/phone_numbers/${n.id}/messaging`, {
      messaging_profile_id: '00000000-0000-4000-8000-000000000000',
    });
    assert.equal(res.status, 404);
    assert.equal(((res.body.errors as Json[])[0]!.source as Json).pointer, '/messaging_profile_id');
    const missing = await call('PATCH', '/v2/phone_numbers/+19995550000/messaging', {
      messaging_profile_id: '',
    });
    assert.equal(missing.status, 404);
  });
});

describe('public key', () => {
  test("GET /v2/public_key returns the base64 of the caller's organization's 32-byte Ed25519 key", async () => {
    const res = await fetch(`${gw.url}/v2/public_key`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      data: { public_key: string; public_keys: Array<{ public_key: string }> };
    };
    const key = body.data.public_key;
    assert.match(key, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(Buffer.from(key, 'base64').length, 32);
    assert.deepEqual(
      body.data.public_keys.map((k) => k.public_key),
      [key],
    );
    const stored = await gw.store.organizationSigningKeys.listUnretired(
      gw.organizationId,
      new Date().toISOString(),
    );
    assert.deepEqual(
      stored.map((k) => k.public_key),
      [key],
    );
  });

  test('GET /v2/public_key without an API key is 401 10009: keys are per organization', async () => {
    const res = await fetch(`${gw.url}/v2/public_key`);
    assert.equal(res.status, 401);
    const body = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(body.errors[0]!.code, '10009');
  });
});
