import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTenant, startTestGateway, type Tenant, type TestGateway } from '../support/gateway.ts';

/**
 * Organization B, with its own valid key, can neither see nor change anything of organization A.
 * Every refusal is checked next to A doing the same thing successfully, so a route that refuses
 * everyone cannot pass.
 */

let gw: TestGateway;
let a: Tenant;
let b: Tenant;
let groupId: string;
let recipientIds: string[];
let aNumberId: string;

async function call(
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function assertNotFound(res: { status: number; body: Record<string, unknown> }) {
  assert.equal(res.status, 404, JSON.stringify(res.body));
  const errors = res.body.errors as Array<{ code: string }>;
  assert.equal(errors[0]?.code, '10005');
  assert.equal(res.body.data, undefined, 'a 404 must not carry data');
}

before(async () => {
  gw = await startTestGateway();
  a = { organizationId: gw.organizationId, apiKey: gw.apiKey, profileId: gw.profileId, numbers: gw.numbers };
  b = await createTenant(gw.store);

  const sent = await call(a.apiKey, 'POST', '/v2/messages/group_mms', {
    from: a.numbers[0],
    to: ['+13125550100', '+13125550101'],
    text: 'for A only',
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  groupId = (sent.body.data as { id: string }).id;
  const group = await call(a.apiKey, 'GET', `/v2/messages/group/${groupId}`);
  assert.equal(group.status, 200);
  recipientIds = (group.body.data as Array<{ id: string }>).map((m) => m.id);
  assert.equal(recipientIds.length, 2);
  const number = await call(
    a.apiKey,
    'GET',
    `/v2/phone_numbers/${encodeURIComponent(a.numbers[0]!)}/messaging`,
  );
  assert.equal(number.status, 200);
  aNumberId = (number.body.data as { id: string }).id;
});

after(async () => {
  await gw?.close();
});

describe('messages', () => {
  test("B cannot GET A's group message", async () => {
    assert.equal((await call(a.apiKey, 'GET', `/v2/messages/${groupId}`)).status, 200);
    assertNotFound(await call(b.apiKey, 'GET', `/v2/messages/${groupId}`));
  });

  test("B cannot GET A's group listing", async () => {
    assert.equal((await call(a.apiKey, 'GET', `/v2/messages/group/${groupId}`)).status, 200);
    assertNotFound(await call(b.apiKey, 'GET', `/v2/messages/group/${groupId}`));
  });

  test("B cannot GET A's per-recipient messages", async () => {
    for (const id of recipientIds) {
      assert.equal((await call(a.apiKey, 'GET', `/v2/messages/${id}`)).status, 200);
      assertNotFound(await call(b.apiKey, 'GET', `/v2/messages/${id}`));
    }
  });

  test("B cannot send from A's number (40305); B can send from its own", async () => {
    const jobsBefore = await gw.store.jobs.count('message.send');
    const res = await call(b.apiKey, 'POST', '/v2/messages/group_mms', {
      from: a.numbers[0],
      to: ['+13125550102'],
      text: 'spoof',
    });
    assert.equal(res.status, 400);
    assert.equal((res.body.errors as Array<{ code: string }>)[0]?.code, '40305');
    assert.equal(await gw.store.jobs.count('message.send'), jobsBefore);

    const own = await call(b.apiKey, 'POST', '/v2/messages/group_mms', {
      from: b.numbers[0],
      to: ['+13125550102'],
      text: 'mine',
    });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal((own.body.data as { organization_id: string }).organization_id, b.organizationId);
    assertNotFound(await call(a.apiKey, 'GET', `/v2/messages/${(own.body.data as { id: string }).id}`));
  });
});

describe('messaging profiles', () => {
  test("B's listing holds only B's profiles", async () => {
    const listA = await call(a.apiKey, 'GET', '/v2/messaging_profiles');
    const listB = await call(b.apiKey, 'GET', '/v2/messaging_profiles');
    const idsA = (listA.body.data as Array<{ id: string }>).map((p) => p.id);
    const dataB = listB.body.data as Array<{ id: string; organization_id: string }>;
    assert.ok(idsA.includes(a.profileId));
    assert.deepEqual(
      dataB.map((p) => p.id),
      [b.profileId],
    );
    for (const p of dataB) assert.equal(p.organization_id, b.organizationId);
    assert.equal((listB.body.meta as { total_results: number }).total_results, 1);
  });

  test("B cannot GET A's profile", async () => {
    assert.equal((await call(a.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}`)).status, 200);
    assertNotFound(await call(b.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}`));
  });

  test("B cannot PATCH A's profile, and it stays unchanged", async () => {
    assertNotFound(
      await call(b.apiKey, 'PATCH', `/v2/messaging_profiles/${a.profileId}`, {
        name: 'hijacked',
        enabled: false,
      }),
    );
    const profile = (await call(a.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}`)).body.data as {
      name: string;
      enabled: boolean;
    };
    assert.notEqual(profile.name, 'hijacked');
    assert.equal(profile.enabled, true);
  });

  test("B cannot DELETE A's profile, and it still exists with its numbers", async () => {
    assertNotFound(await call(b.apiKey, 'DELETE', `/v2/messaging_profiles/${a.profileId}`));
    assert.equal((await call(a.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}`)).status, 200);
    const numbers = await call(a.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}/phone_numbers`);
    assert.equal((numbers.body.data as unknown[]).length, a.numbers.length);
  });

  test("B cannot list A's profile numbers", async () => {
    const own = await call(a.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}/phone_numbers`);
    assert.equal(own.status, 200);
    assert.deepEqual(
      (own.body.data as Array<{ phone_number: string }>).map((n) => n.phone_number).sort(),
      [...a.numbers].sort(),
    );
    assertNotFound(await call(b.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}/phone_numbers`));
  });
});

describe('phone numbers', () => {
  test("B cannot read A's number by id or by number", async () => {
    assertNotFound(await call(b.apiKey, 'GET', `/v2/phone_numbers/${aNumberId}/messaging`));
    assertNotFound(
      await call(b.apiKey, 'GET', `/v2/phone_numbers/${encodeURIComponent(a.numbers[0]!)}/messaging`),
    );
  });

  test("B cannot PATCH A's number (to detach it or move it to B's profile)", async () => {
    assertNotFound(
      await call(b.apiKey, 'PATCH', `/v2/phone_numbers/${aNumberId}/messaging`, { messaging_profile_id: '' }),
    );
    assertNotFound(
      await call(b.apiKey, 'PATCH', `/v2/phone_numbers/${encodeURIComponent(a.numbers[0]!)}/messaging`, {
        messaging_profile_id: b.profileId,
      }),
    );
    const number = await call(a.apiKey, 'GET', `/v2/phone_numbers/${aNumberId}/messaging`);
    assert.equal((number.body.data as { messaging_profile_id: string }).messaging_profile_id, a.profileId);
  });

  test("B cannot attach its own number to A's profile", async () => {
    const path = `/v2/phone_numbers/${encodeURIComponent(b.numbers[1]!)}/messaging`;
    const res = await call(b.apiKey, 'PATCH', path, { messaging_profile_id: a.profileId });
    assertNotFound(res);
    const number = await call(b.apiKey, 'GET', path);
    assert.equal((number.body.data as { messaging_profile_id: string }).messaging_profile_id, b.profileId);
    const listed = await call(a.apiKey, 'GET', `/v2/messaging_profiles/${a.profileId}/phone_numbers`);
    assert.ok(
      !(listed.body.data as Array<{ phone_number: string }>).some((n) => n.phone_number === b.numbers[1]),
    );

    // The same request onto B's own second profile works, so the refusal above is about ownership.
    const created = await call(b.apiKey, 'POST', '/v2/messaging_profiles', {
      name: 'B second',
      whitelisted_destinations: ['US'],
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const secondId = (created.body.data as { id: string }).id;
    const moved = await call(b.apiKey, 'PATCH', path, { messaging_profile_id: secondId });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal((moved.body.data as { messaging_profile_id: string }).messaging_profile_id, secondId);
  });
});
