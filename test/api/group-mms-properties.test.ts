import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { SANDBOX_NUMBERS } from '../../src/tenants/bootstrap.ts';
import { openGatewayDb } from '../support/crash-harness.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * Random bodies against POST /v2/messages/group_mms (in-process via inject): the gateway never
 * answers 5xx, every refusal is a well-formed Telnyx error list, and every acceptance is stored
 * with its recipients queued and exactly one send job.
 */

const SPEC = process.env.TELNYX_OPENAPI_SPEC ?? '/work/shared/reference/telnyx-openapi-messaging-subset.json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let gw: TestGateway;
let app: FastifyInstance;
const accepted = new Set<string>();

before(async () => {
  gw = await startTestGateway();
  app = gw.gateway.app!;
});

after(async () => {
  await gw?.close();
});

interface Outcome {
  status: number;
  body: Record<string, unknown>;
}

async function send(payload: string, contentType = 'application/json'): Promise<Outcome> {
  const res = await app.inject({
    method: 'POST',
    url: '/v2/messages/group_mms',
    headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': contentType },
    payload,
  });
  return { status: res.statusCode, body: res.json() };
}

/** The invariants every response must satisfy; returns the accepted message id, if any. */
async function checkResponse(request: unknown, out: Outcome, jobsBefore: number): Promise<string | null> {
  assert.ok(out.status < 500, `5xx for ${JSON.stringify(request)}: ${JSON.stringify(out.body)}`);
  if (out.status >= 400) {
    const errors = out.body.errors as Array<Record<string, unknown>>;
    assert.ok(Array.isArray(errors) && errors.length > 0, `no errors array: ${JSON.stringify(out.body)}`);
    for (const e of errors) {
      assert.equal(typeof e.code, 'string');
      assert.match(e.code as string, /^\d{5}$/);
      assert.equal(typeof e.title, 'string');
      assert.equal(typeof e.detail, 'string');
      assert.equal(typeof (e.meta as { request_id?: unknown })?.request_id, 'string');
      const pointer = (e.source as { pointer?: unknown } | undefined)?.pointer;
      if (pointer !== undefined) assert.match(pointer as string, /^\//);
    }
    assert.equal(
      await gw.store.jobs.count('message.send'),
      jobsBefore,
      `refused but queued: ${JSON.stringify(request)}`,
    );
    return null;
  }
  assert.equal(out.status, 200, JSON.stringify(out.body));
  const data = out.body.data as {
    id: string;
    from: { phone_number: string };
    to: Array<{ phone_number: string; status: string }>;
  };
  assert.match(data.id, UUID);
  const stored = await gw.store.messages.getForOrganization(gw.organizationId, data.id);
  assert.ok(stored, `accepted ${data.id} is not in the store`);
  assert.equal(stored.message.from_number, data.from.phone_number);
  assert.deepEqual(
    stored.recipients.map((r) => r.phone_number),
    data.to.map((t) => t.phone_number),
  );
  assert.ok(stored.recipients.length >= 1 && stored.recipients.length <= 8);
  for (const r of stored.recipients) assert.equal(r.status, 'queued');
  for (const t of data.to) assert.equal(t.status, 'queued');
  assert.equal(await gw.store.jobs.count('message.send'), jobsBefore + 1, 'accepted without exactly one job');
  accepted.add(data.id);
  return data.id;
}

async function roundTrip(
  request: unknown,
  payload = JSON.stringify(request) ?? 'null',
): Promise<string | null> {
  const jobsBefore = await gw.store.jobs.count('message.send');
  return checkResponse(request, await send(payload), jobsBefore);
}

// --- arbitraries --------------------------------------------------------------------------------

const SANDBOX = SANDBOX_NUMBERS;
const phone = fc.oneof(
  fc.integer({ min: 100, max: 9999 }).map((n) => `+1312555${String(n).padStart(4, '0')}`),
  fc.constantFrom('+447400123456', '+4915112345678', '+33612345678', '+18445550001', '+12065550123'),
);
const notPhone = fc.oneof(
  fc.string(),
  fc.constantFrom('', '+', '+0123', '13125550100', '+1 312 555 0100', '+1312555010a', 'x'.repeat(300)),
);
const url = fc.oneof(
  fc.webUrl(),
  fc.constantFrom(
    'ftp://x.example/a',
    'javascript:alert(1)',
    '/relative',
    'http://',
    `https://a.example/${'z'.repeat(2100)}`,
  ),
  fc.string(),
);
const anything = fc.jsonValue({ maxDepth: 3 });

const plausibleValue = {
  from: fc.oneof(fc.constantFrom(...SANDBOX), phone, notPhone, anything),
  to: fc.oneof(
    fc.array(phone, { maxLength: 10 }),
    fc.array(fc.oneof(phone, notPhone, fc.constantFrom(...SANDBOX)), { maxLength: 10 }),
    phone,
    anything,
  ),
  text: fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.constant(''),
    fc.constant(null),
    anything,
  ),
  subject: fc.oneof(fc.string(), fc.constant(null), anything),
  media_urls: fc.oneof(fc.array(url, { maxLength: 12 }), fc.constant(null), anything),
  webhook_url: fc.oneof(url, fc.constant(null), anything),
  webhook_failover_url: fc.oneof(url, fc.constant(null), anything),
  use_profile_webhooks: fc.oneof(fc.boolean(), fc.constant(null), anything),
};
const plausibleBody = fc.record(plausibleValue, { requiredKeys: [] });

const validBody = fc
  .record({
    from: fc.constantFrom(...SANDBOX),
    to: fc.uniqueArray(
      fc.integer({ min: 100, max: 9999 }).map((n) => `+1312555${String(n).padStart(4, '0')}`),
      { minLength: 1, maxLength: 8 },
    ),
    text: fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 400 }), { nil: undefined }),
    subject: fc.option(fc.string(), { nil: undefined }),
    media_urls: fc.option(fc.array(fc.webUrl(), { maxLength: 10 }), { nil: undefined }),
    webhook_url: fc.option(fc.webUrl(), { nil: undefined }),
    use_profile_webhooks: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((b) => ({ ...b, to: b.to.filter((t) => t !== b.from) }))
  .filter((b) => b.to.length > 0 && (b.text !== undefined || (b.media_urls?.length ?? 0) > 0));

// --- properties ---------------------------------------------------------------------------------

describe('random bodies', () => {
  test('arbitrary JSON values never cause a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(anything, async (value) => {
        await roundTrip(value);
      }),
      { numRuns: 500 },
    );
  });

  test('arbitrary request text never causes a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (raw) => {
        await roundTrip(raw, raw);
      }),
      { numRuns: 300 },
    );
  });

  test('objects with plausible keys and random values: never a 5xx, refusals well-formed', async () => {
    await fc.assert(
      fc.asyncProperty(plausibleBody, async (body) => {
        await roundTrip(body);
      }),
      { numRuns: 1200 },
    );
  });

  test('valid requests are all accepted, stored queued and given a send job', async () => {
    await fc.assert(
      fc.asyncProperty(validBody, async (body) => {
        const id = await roundTrip(body);
        assert.ok(id, `valid body refused: ${JSON.stringify(body)}`);
        const stored = await gw.store.messages.getForOrganization(gw.organizationId, id);
        assert.deepEqual(
          stored!.recipients.map((r) => r.phone_number),
          body.to,
        );
        assert.equal(stored!.message.text, body.text ?? null);
        assert.deepEqual(
          stored!.message.media.map((m) => m.url),
          body.media_urls ?? [],
        );
      }),
      { numRuns: 600 },
    );
  });

  test('each accepted message has its own message.send job row naming it', async () => {
    assert.ok(accepted.size >= 600, `only ${accepted.size} accepted`);
    const db = await openGatewayDb(gw.dataDir);
    try {
      const payloads = (await db.jobPayloads('message.send')) as Array<{ messageId: string }>;
      const ids = payloads.map((p) => p.messageId);
      assert.equal(new Set(ids).size, ids.length, 'a message has two send jobs');
      assert.deepEqual(new Set(ids), accepted);
    } finally {
      await db.close();
    }
  });
});

// --- the full 200 response ----------------------------------------------------------------------

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
};

function specPayloadSchema(): Schema {
  const spec = JSON.parse(fs.readFileSync(SPEC, 'utf8')) as {
    components: { schemas: { OutboundMessagePayload: Schema } };
  };
  return spec.components.schemas.OutboundMessagePayload;
}

/** Differences between a value and the spec's `type`/`enum` (properties and items, recursively). */
function typeMismatches(value: unknown, schema: Schema, at: string): string[] {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const actual =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : typeof value === 'number'
          ? Number.isInteger(value)
            ? 'integer'
            : 'number'
          : typeof value;
  const ok =
    types.length === 0 || types.includes(actual) || (actual === 'integer' && types.includes('number'));
  if (!ok) return [`${at}: ${JSON.stringify(value)} is not ${types.join('|')}`];
  const out: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) out.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (actual === 'object' && schema.properties) {
    for (const [k, s] of Object.entries(schema.properties)) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out.push(...typeMismatches(v, s, `${at}/${k}`));
    }
  }
  if (actual === 'array' && schema.items) {
    (value as unknown[]).forEach((v, i) => {
      out.push(...typeMismatches(v, schema.items!, `${at}/${i}`));
    });
  }
  return out;
}

describe('the 200 response', () => {
  const request = {
    from: '+13125550002',
    to: ['+13125550123', '+12065559123', '+18445550001'],
    text: 'Hello, World!',
    subject: 'From the gateway',
    media_urls: ['https://media.example.com/a.png', 'https://media.example.com/b.jpg'],
    webhook_url: 'https://hooks.example.com/primary',
    webhook_failover_url: 'https://hooks.example.com/backup',
    use_profile_webhooks: false,
  };

  async function accept(body: Record<string, unknown>) {
    const before = Date.now();
    const out = await send(JSON.stringify(body));
    const after = Date.now();
    assert.equal(out.status, 200, JSON.stringify(out.body));
    return { data: out.body.data as Record<string, unknown>, before, after };
  }

  test('has every OutboundMessagePayload property plus group_message_id, with the right values', async () => {
    const { data, before, after } = await accept(request);
    const specKeys = Object.keys(specPayloadSchema().properties!);
    assert.ok(specKeys.length >= 30, 'spec read');
    for (const key of specKeys) assert.ok(key in data, `missing ${key}`);
    assert.ok('group_message_id' in data);

    assert.equal(data.record_type, 'message');
    assert.equal(data.direction, 'outbound');
    assert.equal(data.type, 'MMS');
    assert.match(data.id as string, UUID);
    assert.equal(data.group_message_id, data.id);
    assert.equal(data.messaging_profile_id, gw.profileId);
    assert.equal(data.organization_id, gw.organizationId);
    assert.deepEqual(data.from, {
      phone_number: '+13125550002',
      carrier: 'Demo Wireless',
      line_type: 'Wireless',
    });
    assert.deepEqual(data.to, [
      { phone_number: '+13125550123', status: 'queued', carrier: 'Demo Wireless', line_type: 'Wireless' },
      {
        phone_number: '+12065559123',
        status: 'queued',
        carrier: 'Demo Prepaid Mobile',
        line_type: 'Pre-Paid Wireless',
      },
      { phone_number: '+18445550001', status: 'queued', carrier: 'Demo Cloud Voice', line_type: 'VoIP' },
    ]);
    assert.deepEqual(data.cc, []);
    assert.equal(data.text, 'Hello, World!');
    assert.equal(data.subject, 'From the gateway');
    assert.deepEqual(data.media, [
      { url: 'https://media.example.com/a.png', content_type: null, sha256: null, size: null },
      { url: 'https://media.example.com/b.jpg', content_type: null, sha256: null, size: null },
    ]);
    assert.equal(data.webhook_url, 'https://hooks.example.com/primary');
    assert.equal(data.webhook_failover_url, 'https://hooks.example.com/backup');
    assert.equal(data.encoding, 'GSM-7');
    assert.equal(data.parts, 1);
    assert.equal(data.num_chars, 13);
    assert.equal(data.smart_encoding_applied, false);
    assert.deepEqual(data.tags, []);
    assert.equal(data.cost, null);
    assert.equal(data.cost_breakdown, null);
    assert.equal(data.tcr_campaign_id, null);
    assert.equal(data.tcr_campaign_registered, null);
    assert.equal(data.sent_at, null);
    assert.equal(data.completed_at, null);
    assert.equal(data.wait_seconds, null);
    assert.deepEqual(data.errors, []);

    const receivedAt = Date.parse(data.received_at as string);
    assert.equal(new Date(receivedAt).toISOString(), data.received_at);
    assert.ok(receivedAt >= before - 1 && receivedAt <= after + 1, 'received_at is the time of the request');
    assert.equal(Date.parse(data.valid_until as string) - receivedAt, 4 * 3600 * 1000);
    assert.equal(new Date(Date.parse(data.valid_until as string)).toISOString(), data.valid_until);
  });

  test('an emoji text is UCS-2; a long GSM text counts its parts', async () => {
    const emoji = await accept({ from: '+13125550001', to: ['+13125550124'], text: 'Hi 😀 there' });
    assert.equal(emoji.data.encoding, 'UCS-2');
    assert.equal(emoji.data.num_chars, 10);
    assert.equal(emoji.data.parts, 1);

    const long = await accept({ from: '+13125550001', to: ['+13125550124'], text: 'a'.repeat(161) });
    assert.equal(long.data.encoding, 'GSM-7');
    assert.equal(long.data.num_chars, 161);
    assert.equal(long.data.parts, 2);
  });

  test('media-only: text is "" (the spec has no null for it), media listed, defaults for the optional fields', async () => {
    const { data } = await accept({
      from: '+13125550001',
      to: ['+13125550125'],
      media_urls: ['https://m.example/x.gif'],
    });
    assert.equal(data.text, '');
    assert.equal(data.subject, null);
    assert.equal(data.webhook_url, null);
    assert.equal(data.webhook_failover_url, null);
    assert.deepEqual(data.media, [
      { url: 'https://m.example/x.gif', content_type: null, sha256: null, size: null },
    ]);
  });

  test('every value has the type the spec gives it (tcr_campaign_billable a boolean, text a string)', async () => {
    const full = await accept(request);
    const mediaOnly = await accept({
      from: '+13125550001',
      to: ['+13125550126'],
      media_urls: ['https://m.example/y.png'],
    });
    const mismatches = [
      ...typeMismatches(full.data, specPayloadSchema(), ''),
      ...typeMismatches(mediaOnly.data, specPayloadSchema(), ''),
    ];
    assert.deepEqual(mismatches, []);
    assert.equal(full.data.tcr_campaign_billable, false);
    assert.equal(mediaOnly.data.text, '');
  });
});
