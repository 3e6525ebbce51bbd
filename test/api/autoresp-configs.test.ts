import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ValidateFunction } from 'ajv';
import Telnyx from 'telnyx';
import { MAX_AUTORESP_CONFIGS_PER_PROFILE } from '../../src/api/routes/autoresp-configs.ts';
import { createTenant, startTestGateway, type Tenant, type TestGateway } from '../support/gateway.ts';
import { telnyxAjv } from '../support/telnyx-spec.ts';

/**
 * `/v2/messaging_profiles/{profile_id}/autoresp_configs`: list, create, get, update (PUT) and delete
 * through the official SDK, every answer validated against Telnyx's extra subset; only the
 * organization's own profiles; bad bodies refused with pointers and nothing stored.
 */

const ajv = telnyxAjv();
const LIST = '/messaging_profiles/{profile_id}/autoresp_configs';
const ONE = '/messaging_profiles/{profile_id}/autoresp_configs/{autoresp_cfg_id}';

let gw: TestGateway;
let sdk: Telnyx;
let other: Tenant;

before(async () => {
  gw = await startTestGateway();
  sdk = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0 });
  other = await createTenant(gw.store);
});
after(() => gw?.close());

function assertValid(validate: ValidateFunction, body: unknown, what: string) {
  assert.ok(validate(body), `${what}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(body)}`);
}

async function call(method: string, path: string, body?: unknown, apiKey = gw.apiKey) {
  const res = await fetch(`${gw.url}/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? JSON.parse(text) : null,
    contentType: res.headers.get('content-type'),
  };
}

test('create, list, get, update and delete through the SDK, each answer as the extra subset defines it', async () => {
  const created = await sdk.messagingProfiles.autorespConfigs.create(gw.profileId, {
    op: 'stop',
    keywords: ['stop', '  Arret ', 'ARRET'],
    country_code: 'us',
    resp_text: 'You have been unsubscribed from Acme alerts.',
  });
  assertValid(ajv.response('extra', 'post', LIST), created, 'POST');
  const config = created.data;
  assert.deepEqual(config.keywords, ['STOP', 'ARRET'], 'upper case, trimmed, each once');
  assert.equal(config.country_code, 'US');
  assert.equal(config.op, 'stop');
  assert.equal(config.created_at, config.updated_at);

  const withoutText = await sdk.messagingProfiles.autorespConfigs.create(gw.profileId, {
    op: 'info',
    keywords: ['INFO'],
    country_code: '*',
  });
  assert.equal('resp_text' in withoutText.data, false, 'no resp_text: absent, as the schema has it');

  const listed = await sdk.messagingProfiles.autorespConfigs.list(gw.profileId);
  assertValid(ajv.response('extra', 'get', LIST), listed, 'GET list');
  assert.deepEqual(
    listed.data.map((c) => c.id),
    [config.id, withoutText.data.id],
  );
  assert.equal(listed.meta.total_results, 2);

  const byCountry = await sdk.messagingProfiles.autorespConfigs.list(gw.profileId, { country_code: 'US' });
  assert.deepEqual(
    byCountry.data.map((c) => c.id),
    [config.id],
  );
  const none = await sdk.messagingProfiles.autorespConfigs.list(gw.profileId, {
    created_at: { lte: '2000-01-01T00:00:00Z' },
  });
  assert.deepEqual(none.data, []);

  const got = await sdk.messagingProfiles.autorespConfigs.retrieve(config.id, { profile_id: gw.profileId });
  assertValid(ajv.response('extra', 'get', ONE), got, 'GET one');
  assert.deepEqual(got.data, config);

  const updated = await sdk.messagingProfiles.autorespConfigs.update(config.id, {
    profile_id: gw.profileId,
    op: 'start',
    keywords: ['START', 'YES'],
    country_code: '*',
  });
  assertValid(ajv.response('extra', 'put', ONE), updated, 'PUT');
  assert.equal(updated.data.id, config.id);
  assert.equal(updated.data.created_at, config.created_at);
  assert.ok(updated.data.updated_at >= config.updated_at);
  assert.deepEqual(
    [updated.data.op, updated.data.keywords, updated.data.country_code, 'resp_text' in updated.data],
    ['start', ['START', 'YES'], '*', false],
    'PUT replaces the whole setting',
  );
  const sinceUpdate = await sdk.messagingProfiles.autorespConfigs.list(gw.profileId, {
    updated_at: { gte: updated.data.updated_at },
  });
  assert.ok(sinceUpdate.data.some((c) => c.id === config.id));

  const deleted = await sdk.messagingProfiles.autorespConfigs.delete(config.id, { profile_id: gw.profileId });
  assert.equal(deleted, 'OK');
  const raw = await call(
    'DELETE',
    `/messaging_profiles/${gw.profileId}/autoresp_configs/${withoutText.data.id}`,
  );
  assertValid(ajv.response('extra', 'delete', ONE), raw.body, 'DELETE');
  assert.match(raw.contentType ?? '', /application\/json/);
  await assert.rejects(
    sdk.messagingProfiles.autorespConfigs.retrieve(config.id, { profile_id: gw.profileId }),
    {
      status: 404,
    },
  );
  assert.deepEqual((await sdk.messagingProfiles.autorespConfigs.list(gw.profileId)).data, []);
});

test("another organization's profile and settings are 404, whatever the method", async () => {
  const mine = (
    await sdk.messagingProfiles.autorespConfigs.create(gw.profileId, {
      op: 'info',
      keywords: ['HELP'],
      country_code: '*',
      resp_text: 'Acme: call us.',
    })
  ).data;
  const body = { op: 'info', keywords: ['HELP'], country_code: '*', resp_text: 'Hijacked' };
  const attempts: Array<[string, string, unknown?]> = [
    ['GET', `/messaging_profiles/${gw.profileId}/autoresp_configs`],
    ['POST', `/messaging_profiles/${gw.profileId}/autoresp_configs`, body],
    ['GET', `/messaging_profiles/${gw.profileId}/autoresp_configs/${mine.id}`],
    ['PUT', `/messaging_profiles/${gw.profileId}/autoresp_configs/${mine.id}`, body],
    ['DELETE', `/messaging_profiles/${gw.profileId}/autoresp_configs/${mine.id}`],
    // Their own profile with our setting's id.
    ['GET', `/messaging_profiles/${other.profileId}/autoresp_configs/${mine.id}`],
    ['PUT', `/messaging_profiles/${other.profileId}/autoresp_configs/${mine.id}`, body],
    ['DELETE', `/messaging_profiles/${other.profileId}/autoresp_configs/${mine.id}`],
  ];
  for (const [method, path, b] of attempts) {
    const res = await call(method, path, b, other.apiKey);
    assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.errors[0].code, '10005');
  }
  for (const path of [
    '/messaging_profiles/not-a-uuid/autoresp_configs',
    `/messaging_profiles/${gw.profileId}/autoresp_configs/not-a-uuid`,
    `/messaging_profiles/${gw.profileId}/autoresp_configs/%00`,
  ]) {
    assert.equal((await call('GET', path)).status, 404, path);
  }
  assert.deepEqual(
    (await sdk.messagingProfiles.autorespConfigs.retrieve(mine.id, { profile_id: gw.profileId })).data,
    mine,
    'unchanged',
  );
  await sdk.messagingProfiles.autorespConfigs.delete(mine.id, { profile_id: gw.profileId });
});

test('bad bodies are refused with Telnyx errors and pointers, and nothing is stored', async () => {
  const path = `/messaging_profiles/${gw.profileId}/autoresp_configs`;
  const valid = { op: 'stop', keywords: ['STOP'], country_code: '*' };
  const cases: Array<[string, unknown, string, string]> = [
    ['op missing', { keywords: ['STOP'], country_code: '*' }, '10004', '/op'],
    ['op unknown', { ...valid, op: 'pause' }, '10032', '/op'],
    ['keywords missing', { op: 'stop', country_code: '*' }, '10004', '/keywords'],
    ['no keyword', { ...valid, keywords: [] }, '10015', '/keywords'],
    [
      '21 keywords',
      { ...valid, keywords: Array.from({ length: 21 }, (_, i) => `K${i}`) },
      '10015',
      '/keywords',
    ],
    ['a blank keyword', { ...valid, keywords: ['   '] }, '10015', '/keywords/0'],
    ['a keyword too long', { ...valid, keywords: ['X'.repeat(33)] }, '10025', '/keywords/0'],
    ['NUL in a keyword', { ...valid, keywords: ['ST\u0000OP'] }, '10015', '/keywords/0'],
    ['STOP reassigned', { ...valid, op: 'start', keywords: ['YES', 'stop'] }, '10015', '/keywords/1'],
    ['HELP reassigned', { ...valid, op: 'stop', keywords: ['HELP'] }, '10015', '/keywords/0'],
    ['country missing', { op: 'stop', keywords: ['STOP'] }, '10004', '/country_code'],
    ['country not a code', { ...valid, country_code: 'USA' }, '10015', '/country_code'],
    ['empty reply', { ...valid, resp_text: '' }, '10025', '/resp_text'],
    ['reply too long', { ...valid, resp_text: 'x'.repeat(1601) }, '10025', '/resp_text'],
    ['reply not a string', { ...valid, resp_text: 5 }, '10026', '/resp_text'],
  ];
  for (const [what, body, code, pointer] of cases) {
    const res = await call('POST', path, body);
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    assert.ok(
      res.body.errors.some(
        (e: { code: string; source?: { pointer?: string } }) =>
          e.code === code && e.source?.pointer === pointer,
      ),
      `${what}: ${JSON.stringify(res.body.errors)}`,
    );
  }
  const notJson = await fetch(`${gw.url}/v2${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
    body: '{"op":',
  });
  assert.equal(notJson.status, 400);
  assert.deepEqual((await call('GET', path)).body.data, [], 'nothing stored');

  // A PUT with a bad body leaves the setting as it was.
  const kept = (await call('POST', path, { ...valid, resp_text: 'Bye from Acme.' })).body.data;
  const put = await call('PUT', `${path}/${kept.id}`, { ...valid, op: 'start' });
  assert.equal(put.status, 400);
  assert.deepEqual((await call('GET', `${path}/${kept.id}`)).body.data, kept);
  await call('DELETE', `${path}/${kept.id}`);
});

test(`a profile holds at most ${MAX_AUTORESP_CONFIGS_PER_PROFILE} settings`, async () => {
  const path = `/messaging_profiles/${other.profileId}/autoresp_configs`;
  for (let i = 0; i < MAX_AUTORESP_CONFIGS_PER_PROFILE; i++) {
    const res = await call(
      'POST',
      path,
      { op: 'info', keywords: [`INFO${i}`], country_code: '*' },
      other.apiKey,
    );
    assert.equal(res.status, 200);
  }
  const over = await call(
    'POST',
    path,
    { op: 'info', keywords: ['ONE MORE'], country_code: '*' },
    other.apiKey,
  );
  assert.equal(over.status, 422);
  assert.equal(over.body.errors[0].code, '10027');
  assert.equal(
    (await call('GET', path, undefined, other.apiKey)).body.data.length,
    MAX_AUTORESP_CONFIGS_PER_PROFILE,
  );
});
