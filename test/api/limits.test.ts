import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * Size limits on everything a tenant can make the gateway store (issue 14): each refused with a
 * Telnyx code and a JSON pointer before anything is stored, and reads of the largest accepted group
 * stay small.
 */

const DEST = Array.from({ length: 8 }, (_, i) => `+1312555010${i}`);

let gw: TestGateway;

before(async () => {
  gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: String(4 * 1024 * 1024) } });
});

after(async () => {
  await gw?.close();
});

interface ErrorObject {
  code: string;
  detail: string;
  source?: { pointer?: string };
}
interface Record1 {
  id: string;
  group_message_id?: string;
  parts: number;
  text: string;
  name: string;
  tags: string[];
}
/** A single record, or (group reads) a list of them. */
interface Answer {
  errors: ErrorObject[];
  data: Record1 & Record1[];
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${gw.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Answer };
}

async function expectRefused(
  method: string,
  path: string,
  body: unknown,
  code: string,
  pointer: string,
): Promise<ErrorObject> {
  const jobs = await gw.store.jobs.count('message.send');
  const res = await call(method, path, body);
  assert.equal(res.status, 400, res.text.slice(0, 500));
  const first = res.json.errors[0]!;
  assert.equal(first.code, code, res.text.slice(0, 500));
  assert.equal(first.source?.pointer, pointer);
  // The answer never echoes the oversized input back.
  assert.ok(res.text.length < 2_000, `error body of ${res.text.length} bytes`);
  assert.equal(await gw.store.jobs.count('message.send'), jobs, 'nothing queued');
  return first;
}

const send = (extra: Record<string, unknown>) => ({ from: gw.numbers[0], to: DEST.slice(0, 2), ...extra });

describe('group MMS limits', () => {
  test('a 1 MB text is refused with 40302 (more than 10 parts), before anything is stored', async () => {
    const first = await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: 'x'.repeat(1_000_000) }),
      '40302',
      '/text',
    );
    assert.match(first.detail, /maximum is 10/);
  });

  test('text of exactly 10 parts passes; one character more is 40302', async () => {
    const gsm10 = 'a'.repeat(1530);
    const ok = await call('POST', '/v2/messages/group_mms', send({ text: gsm10 }));
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.equal(ok.json.data.parts, 10);
    const over = await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: `${gsm10}a` }),
      '40302',
      '/text',
    );
    assert.match(over.detail, /divided into 11 parts/);
    // UCS-2: 10 parts of 67 code units.
    const ucs10 = 'ж'.repeat(670);
    assert.equal((await call('POST', '/v2/messages/group_mms', send({ text: ucs10 }))).status, 200);
    await expectRefused('POST', '/v2/messages/group_mms', send({ text: `${ucs10}ж` }), '40302', '/text');
  });

  test('subject over 64 characters is 10025', async () => {
    assert.equal(
      (await call('POST', '/v2/messages/group_mms', send({ text: 'hi', subject: 's'.repeat(64) }))).status,
      200,
    );
    const e = await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: 'hi', subject: 's'.repeat(100_000) }),
      '10025',
      '/subject',
    );
    assert.match(e.detail, /between 0 and 64 characters long, but was 100000/);
  });

  test('URLs over 2,000 characters are 10003', async () => {
    const long = `http://example.com/${'a'.repeat(2000)}`;
    await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ media_urls: [long] }),
      '10003',
      '/media_urls/0',
    );
    await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: 'hi', webhook_url: long }),
      '10003',
      '/webhook_url',
    );
  });

  test('a lone surrogate in text is refused with 10015; a real pair is stored exactly', async () => {
    await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: 'bad \ud800 half' }),
      '10015',
      '/text',
    );
    await expectRefused('POST', '/v2/messages/group_mms', send({ text: 'bad \udfff' }), '10015', '/text');
    await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: 'ok', subject: '\ud83d' }),
      '10015',
      '/subject',
    );
    // The raw JSON escape, as a client that builds JSON by hand would send it.
    const raw = JSON.stringify(send({ text: 'PLACEHOLDER' })).replace('PLACEHOLDER', 'x\\ud800y');
    await expectRefused('POST', '/v2/messages/group_mms', raw, '10015', '/text');

    const text = 'pair 😀 ok';
    const sent = await call('POST', '/v2/messages/group_mms', send({ text }));
    assert.equal(sent.status, 200);
    assert.equal(sent.json.data.text, text);
    const read = await call('GET', `/v2/messages/${sent.json.data.id}`);
    assert.equal(read.json.data.text, text);
  });

  test('reading the largest group stays small (8 recipients × the longest text)', async () => {
    const text = 'ж'.repeat(670);
    const sent = await call('POST', '/v2/messages/group_mms', {
      from: gw.numbers[0],
      to: DEST,
      text,
      subject: 's'.repeat(64),
    });
    assert.equal(sent.status, 200, sent.text.slice(0, 300));
    const group = await call(
      'GET',
      `/v2/messages/group/${sent.json.data.group_message_id ?? sent.json.data.id}`,
    );
    assert.equal(group.status, 200);
    assert.equal(group.json.data.length, 8);
    // 8 records of ~670 characters (2 kB as UTF-8) plus metadata: far from the 8 MB of the report.
    assert.ok(group.text.length < 64_000, `group read is ${group.text.length} bytes`);
  });
});

describe('messaging profile limits', () => {
  const profile = (extra: Record<string, unknown>) => ({
    name: 'p',
    whitelisted_destinations: ['US'],
    ...extra,
  });

  test('a 1 MB name is 10025; 255 characters pass', async () => {
    await expectRefused(
      'POST',
      '/v2/messaging_profiles',
      profile({ name: 'n'.repeat(1_000_000) }),
      '10025',
      '/name',
    );
    const ok = await call('POST', '/v2/messaging_profiles', profile({ name: 'n'.repeat(255) }));
    assert.equal(ok.status, 200);
    await expectRefused(
      'PATCH',
      `/v2/messaging_profiles/${ok.json.data.id}`,
      { name: 'n'.repeat(256) },
      '10025',
      '/name',
    );
    const read = await call('GET', `/v2/messaging_profiles/${ok.json.data.id}`);
    assert.equal(read.json.data.name, 'n'.repeat(255));
  });

  test('settings nested 6,000 levels are refused, not a 500, and nothing deep is stored', async () => {
    // The settings objects have Telnyx's typed shapes: a value that is not one is refused at its
    // first missing field, and keys outside the shape are dropped, never stored however deep.
    const deep = `${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}`;
    const body = `{"name":"deep","whitelisted_destinations":["US"],"number_pool_settings":${deep}}`;
    await expectRefused(
      'POST',
      '/v2/messaging_profiles',
      body,
      '10004',
      '/number_pool_settings/toll_free_weight',
    );
    const pool = `{"toll_free_weight":1,"long_code_weight":2,"skip_unhealthy":true,"extra":${deep}}`;
    const created = await call(
      'POST',
      '/v2/messaging_profiles',
      `{"name":"deep-extra","whitelisted_destinations":["US"],"number_pool_settings":${pool}}`,
    );
    assert.equal(created.status, 200, created.text.slice(0, 500));
    assert.deepEqual((created.json.data as unknown as Record<string, unknown>).number_pool_settings, {
      toll_free_weight: 1,
      long_code_weight: 2,
      skip_unhealthy: true,
    });
  });

  test('a whitelist of 60,000 entries is refused', async () => {
    await expectRefused(
      'POST',
      '/v2/messaging_profiles',
      profile({ whitelisted_destinations: Array.from({ length: 60_000 }, () => 'US') }),
      '10015',
      '/whitelisted_destinations',
    );
  });
});

describe('phone number tags', () => {
  test('60,000 tags are refused; a tag over 128 characters is 10025; 50 short tags pass', async () => {
    const path = `/v2/phone_numbers/${encodeURIComponent(gw.numbers[1]!)}/messaging`;
    await expectRefused(
      'PATCH',
      path,
      { tags: Array.from({ length: 60_000 }, (_, i) => `t${i}`) },
      '10015',
      '/tags',
    );
    await expectRefused('PATCH', path, { tags: ['ok', 't'.repeat(129)] }, '10025', '/tags/1');
    const tags = Array.from({ length: 50 }, (_, i) => `tag-${i}`);
    const ok = await call('PATCH', path, { tags });
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.deepEqual(ok.json.data.tags, tags);
  });
});

describe('NUL bytes (found by npm run fuzz: PostgreSQL refuses U+0000 in text, which was a 500)', () => {
  test('%00 as an id answers 404 on every route that takes one', async () => {
    for (const [method, path, body] of [
      ['GET', '/v2/messaging_profiles/%00', undefined],
      ['PATCH', '/v2/messaging_profiles/%00', { name: 'x' }],
      ['DELETE', '/v2/messaging_profiles/%00', undefined],
      ['GET', '/v2/messaging_profiles/%00/phone_numbers', undefined],
      ['GET', '/v2/phone_numbers/%00/messaging', undefined],
      ['PATCH', '/v2/phone_numbers/a%00b/messaging', { tags: [] }],
      ['GET', '/v2/messages/%00', undefined],
      ['GET', '/v2/messages/group/%00', undefined],
    ] as const) {
      const res = await call(method, path, body);
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      assert.equal(res.json.errors[0]!.code, '10005');
    }
    const res = await call('PATCH', `/v2/phone_numbers/${encodeURIComponent(gw.numbers[1]!)}/messaging`, {
      messaging_profile_id: 'a\u0000b',
    });
    assert.equal(res.status, 404, res.text);
  });

  test('U+0000 in text, subject, a profile name or a tag is refused with 10015; in a URL with 10003', async () => {
    await expectRefused('POST', '/v2/messages/group_mms', send({ text: 'a\u0000b' }), '10015', '/text');
    await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: 'a', subject: '\u0000' }),
      '10015',
      '/subject',
    );
    await expectRefused(
      'POST',
      '/v2/messages/group_mms',
      send({ text: 'a', webhook_url: 'http://example.com/\u0000' }),
      '10003',
      '/webhook_url',
    );
    await expectRefused(
      'POST',
      '/v2/messaging_profiles',
      { name: 'a\u0000', whitelisted_destinations: ['US'] },
      '10015',
      '/name',
    );
    const path = `/v2/phone_numbers/${encodeURIComponent(gw.numbers[1]!)}/messaging`;
    await expectRefused('PATCH', path, { tags: ['\u0000'] }, '10015', '/tags/0');
  });
});
