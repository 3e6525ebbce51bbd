import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  addNumber,
  createTenant,
  startTestGateway,
  type Tenant,
  type TestGateway,
} from '../support/gateway.ts';

/**
 * Every check of POST /v2/messages/group_mms, over real HTTP: the status, the Telnyx code and the
 * JSON pointer of the first error, and that a refused request stores nothing.
 */

const BODY_LIMIT = 65_536;
const DEST = ['+13125550100', '+13125550101', '+13125550102', '+13125550103', '+13125550104'];

let gw: TestGateway;
let sender: string;
let other: Tenant;
let usOnly: Tenant;
let disabled: Tenant;
let unattached: string;

before(async () => {
  gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  sender = gw.numbers[0]!;
  other = await createTenant(gw.store);
  usOnly = await createTenant(gw.store, { whitelist: ['US'] });
  disabled = await createTenant(gw.store, { enabled: false });
  unattached = (await addNumber(gw.store, gw.organizationId, null)).phone_number;
});

after(async () => {
  await gw?.close();
});

interface Sent {
  status: number;
  body: Record<string, unknown>;
  requestIdHeader: string | null;
}

async function post(
  body: unknown,
  opts: { raw?: string; contentType?: string; auth?: string | null; apiKey?: string } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  const auth = opts.auth === undefined ? `Bearer ${opts.apiKey ?? gw.apiKey}` : opts.auth;
  if (auth !== null) headers.authorization = auth;
  const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers,
    body: opts.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), requestIdHeader: res.headers.get('x-request-id') };
}

interface ErrorObject {
  code: string;
  title: string;
  detail: string;
  source?: { pointer?: string; parameter?: string };
  meta: { request_id: string };
}

/** Sends a request that must be refused and checks the first error; nothing may be queued. */
async function expectRefused(
  body: unknown,
  expected: { status: number; code: string; pointer?: string | null },
  opts: Parameters<typeof post>[1] = {},
): Promise<ErrorObject[]> {
  const jobsBefore = await gw.store.jobs.count('message.send');
  const res = await post(body, opts);
  assert.equal(res.status, expected.status, JSON.stringify(res.body));
  const errors = res.body.errors as ErrorObject[];
  assert.ok(Array.isArray(errors) && errors.length > 0, 'errors must be a non-empty array');
  assert.equal(res.body.data, undefined);
  const first = errors[0]!;
  assert.equal(first.code, expected.code, JSON.stringify(errors));
  if (expected.pointer !== undefined) {
    assert.equal(first.source?.pointer ?? null, expected.pointer, JSON.stringify(errors));
  }
  for (const e of errors) {
    assert.match(e.code, /^\d{5}$/);
    assert.equal(typeof e.title, 'string');
    assert.ok(e.title.length > 0);
    assert.equal(typeof e.detail, 'string');
    assert.ok(e.detail.length > 0);
    assert.equal(typeof e.meta?.request_id, 'string');
    assert.equal(e.meta.request_id, res.requestIdHeader);
  }
  assert.equal(await gw.store.jobs.count('message.send'), jobsBefore, 'a refused request queued work');
  return errors;
}

const valid = (overrides: Record<string, unknown> = {}) => ({
  from: sender,
  to: [DEST[0], DEST[1]],
  text: 'Hello group',
  ...overrides,
});

const without = (key: string) => {
  const body: Record<string, unknown> = valid();
  delete body[key];
  return body;
};

describe('request body', () => {
  test('a valid request is accepted (the baseline the other cases break)', async () => {
    const res = await post(valid());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((res.body.data as { from: { phone_number: string } }).from.phone_number, sender);
  });

  for (const [name, raw] of [
    ['an array', '[{"from":"+13125550001"}]'],
    ['a string', '"hello"'],
    ['a number', '42'],
    ['null', 'null'],
  ] as const) {
    test(`a JSON body that is ${name} → 400 10015`, async () => {
      await expectRefused(undefined, { status: 400, code: '10015', pointer: '/' }, { raw });
    });
  }

  test('malformed JSON → 400 10023', async () => {
    await expectRefused(
      undefined,
      { status: 400, code: '10023' },
      { raw: '{"from": "+13125550001", "to": [' },
    );
  });

  test('text/plain content type → 415 10029', async () => {
    await expectRefused(
      undefined,
      { status: 415, code: '10029' },
      {
        raw: JSON.stringify(valid()),
        contentType: 'text/plain',
      },
    );
  });

  test('another non-JSON content type → 415 10029', async () => {
    await expectRefused(
      undefined,
      { status: 415, code: '10029' },
      {
        raw: 'from=%2B13125550001',
        contentType: 'application/x-www-form-urlencoded',
      },
    );
  });

  test('a body over the configured limit → 413 10033, one under it is accepted', async () => {
    const over = JSON.stringify(valid({ text: 'x'.repeat(BODY_LIMIT) }));
    assert.ok(Buffer.byteLength(over) > BODY_LIMIT);
    await expectRefused(undefined, { status: 413, code: '10033' }, { raw: over });

    const under = JSON.stringify(valid({ padding: 'x'.repeat(BODY_LIMIT - 200) }));
    assert.ok(Buffer.byteLength(under) <= BODY_LIMIT);
    const res = await post(undefined, { raw: under });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test('unknown fields are ignored', async () => {
    const res = await post(
      valid({ foo: 'bar', messaging_profile_id: 'nope', auto_detect: true, nested: { a: [1] } }),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const data = res.body.data as Record<string, unknown>;
    assert.equal(data.foo, undefined);
    assert.equal(data.messaging_profile_id, gw.profileId);
  });
});

describe('from', () => {
  test('missing → 400 10004 /from', async () => {
    await expectRefused(without('from'), { status: 400, code: '10004', pointer: '/from' });
  });

  for (const bad of ['13125550001', '+1 312 555 0001', '+013125550001', 'Sender', '', '+1312555000']) {
    test(`not +E.164 (${JSON.stringify(bad)}) → 400 10016 /from`, async () => {
      await expectRefused(valid({ from: bad }), { status: 400, code: '10016', pointer: '/from' });
    });
  }

  test("another organization's number → 400 40305", async () => {
    await expectRefused(valid({ from: other.numbers[0] }), { status: 400, code: '40305', pointer: '/from' });
  });

  test('a number nobody has → 400 40305', async () => {
    await expectRefused(valid({ from: '+13125559999' }), { status: 400, code: '40305', pointer: '/from' });
  });

  test('a number with no messaging profile → 400 40305', async () => {
    await expectRefused(valid({ from: unattached }), { status: 400, code: '40305', pointer: '/from' });
  });

  test('a number attached to a disabled profile → 400 40312', async () => {
    await expectRefused(
      valid({ from: disabled.numbers[0] }),
      { status: 400, code: '40312' },
      { apiKey: disabled.apiKey },
    );
  });
});

describe('to', () => {
  test('missing → 400 10004 /to', async () => {
    await expectRefused(without('to'), { status: 400, code: '10004', pointer: '/to' });
  });

  test('empty → 400 40310 /to', async () => {
    await expectRefused(valid({ to: [] }), { status: 400, code: '40310', pointer: '/to' });
  });

  test('8 destinations are accepted, 9 → 400 40310 /to', async () => {
    const nine = Array.from({ length: 9 }, (_, i) => `+131255502${String(i).padStart(2, '0')}`);
    const ok = await post(valid({ to: nine.slice(0, 8) }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((ok.body.data as { to: unknown[] }).to.length, 8);
    await expectRefused(valid({ to: nine }), { status: 400, code: '40310', pointer: '/to' });
  });

  test('an invalid destination at index 3 → 400 40310 /to/3', async () => {
    await expectRefused(valid({ to: [DEST[0], DEST[1], DEST[2], '555-0100', DEST[4]] }), {
      status: 400,
      code: '40310',
      pointer: '/to/3',
    });
  });

  test('a duplicate destination → 400 40310 at the duplicate', async () => {
    await expectRefused(valid({ to: [DEST[0], DEST[1], DEST[0]] }), {
      status: 400,
      code: '40310',
      pointer: '/to/2',
    });
  });

  test('the sender among the destinations → 400 40310 at its index', async () => {
    await expectRefused(valid({ to: [DEST[0], sender] }), { status: 400, code: '40310', pointer: '/to/1' });
  });

  test("a region outside the profile's whitelisted_destinations → 400 40309 at its index", async () => {
    const from = usOnly.numbers[0];
    const ok = await post({ from, to: [DEST[0]], text: 'hi' }, { apiKey: usOnly.apiKey });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const errors = await expectRefused(
      { from, to: [DEST[0], '+447400123456'], text: 'hi' },
      { status: 400, code: '40309', pointer: '/to/1' },
      { apiKey: usOnly.apiKey },
    );
    assert.equal(errors.length, 1);
  });
});

describe('content', () => {
  test('text "" → 400 on /text', async () => {
    await expectRefused(valid({ text: '' }), { status: 400, code: '10015', pointer: '/text' });
  });

  test('text "" with media → 400 on /text', async () => {
    await expectRefused(valid({ text: '', media_urls: ['https://example.com/a.jpg'] }), {
      status: 400,
      code: '10015',
      pointer: '/text',
    });
  });

  test('no text and no media → 400 40316', async () => {
    await expectRefused(without('text'), { status: 400, code: '40316' });
    await expectRefused(valid({ text: null, media_urls: [] }), { status: 400, code: '40316' });
  });

  test('media without text is accepted', async () => {
    const res = await post(valid({ text: undefined, media_urls: ['https://example.com/a.jpg'] }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test('10 media URLs are accepted, 11 → 400 40317 /media_urls', async () => {
    const urls = Array.from({ length: 11 }, (_, i) => `https://example.com/${i}.jpg`);
    const ok = await post(valid({ media_urls: urls.slice(0, 10) }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await expectRefused(valid({ media_urls: urls }), { status: 400, code: '40317', pointer: '/media_urls' });
  });

  test('an ftp:// media URL → 400 40317 /media_urls/0', async () => {
    await expectRefused(valid({ media_urls: ['ftp://example.com/a.jpg', 'https://example.com/b.jpg'] }), {
      status: 400,
      code: '40317',
      pointer: '/media_urls/0',
    });
  });

  test('a relative media URL at index 1 → 400 40317 /media_urls/1', async () => {
    await expectRefused(valid({ media_urls: ['https://example.com/a.jpg', '/b.jpg'] }), {
      status: 400,
      code: '40317',
      pointer: '/media_urls/1',
    });
  });
});

describe('webhooks', () => {
  for (const bad of ['not a url', 'ftp://example.com/hook', `https://example.com/${'a'.repeat(2000)}`]) {
    test(`webhook_url ${JSON.stringify(bad.slice(0, 30))} → 400 10003 /webhook_url`, async () => {
      await expectRefused(valid({ webhook_url: bad }), {
        status: 400,
        code: '10003',
        pointer: '/webhook_url',
      });
    });
  }

  test('bad webhook_failover_url → 400 10003 /webhook_failover_url', async () => {
    await expectRefused(valid({ webhook_failover_url: 'mailto:ops@example.com' }), {
      status: 400,
      code: '10003',
      pointer: '/webhook_failover_url',
    });
  });

  test('valid webhook URLs are accepted and echoed', async () => {
    const res = await post(
      valid({
        webhook_url: 'https://hooks.example.com/a',
        webhook_failover_url: 'http://hooks.example.com/b',
      }),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const data = res.body.data as Record<string, unknown>;
    assert.equal(data.webhook_url, 'https://hooks.example.com/a');
    assert.equal(data.webhook_failover_url, 'http://hooks.example.com/b');
  });
});

describe('parameter types → 400 10026 at the parameter', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['to: "string"', { to: DEST[0] }, '/to'],
    ['to: [5]', { to: [5] }, '/to/0'],
    ['from: 13125550001', { from: 13125550001 }, '/from'],
    ['text: 5', { text: 5 }, '/text'],
    ['subject: {}', { subject: {} }, '/subject'],
    ['use_profile_webhooks: "yes"', { use_profile_webhooks: 'yes' }, '/use_profile_webhooks'],
    ['media_urls: "x"', { media_urls: 'x' }, '/media_urls'],
    ['media_urls: [true]', { media_urls: [true] }, '/media_urls/0'],
    ['webhook_url: 1', { webhook_url: 1 }, '/webhook_url'],
  ];
  for (const [name, overrides, pointer] of cases) {
    test(name, async () => {
      await expectRefused(valid(overrides), { status: 400, code: '10026', pointer });
    });
  }
});

describe('authentication', () => {
  test('no Authorization header → 401 10009', async () => {
    await expectRefused(valid(), { status: 401, code: '10009' }, { auth: null });
  });

  test('a wrong key → 401 10009', async () => {
    await expectRefused(valid(), { status: 401, code: '10009' }, { auth: `Bearer KEY${'x'.repeat(32)}` });
  });

  test('the right key under another scheme → 401 10009', async () => {
    await expectRefused(valid(), { status: 401, code: '10009' }, { auth: `Basic ${gw.apiKey}` });
  });

  test('authentication is checked before the body', async () => {
    await expectRefused(undefined, { status: 401, code: '10009' }, { auth: null, raw: '{not json' });
  });
});
