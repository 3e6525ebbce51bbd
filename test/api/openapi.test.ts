import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Telnyx from 'telnyx';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { loadSpec, type OpenApiDoc, readNullable, SPEC_FILES } from '../support/telnyx-spec.ts';

/**
 * `/openapi.json`: valid OpenAPI 3.1, the same as Telnyx's subsets on every route we implement
 * (paths, fields, types, enums, required lists; documented extensions aside), and the official
 * SDK's requests validate against it.
 */

type Schema = Record<string, unknown>;
let gw: TestGateway;
let doc: OpenApiDoc;

before(async () => {
  gw = await startTestGateway();
  const res = await fetch(`${gw.url}/openapi.json`);
  assert.equal(res.status, 200);
  doc = (await res.json()) as OpenApiDoc;
});
after(() => gw?.close());

test('it validates as OpenAPI 3.1, and /docs shows every operation without outside requests', async () => {
  const result = await new Validator().validate(doc as never);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  assert.equal(doc.openapi, '3.1.0');
  const page = await (await fetch(`${gw.url}/docs`)).text();
  for (const ops of Object.values(doc.paths)) {
    for (const op of Object.values(ops))
      assert.ok(page.includes(`id="${op.operationId}"`), String(op.operationId));
  }
  assert.doesNotMatch(page, /(src|href)="https?:/, 'no third-party resources');
});

/**
 * Follows $refs, and reads `anyOf: [X, {type: null}]` (how zod writes a nullable object) as X with
 * `null` added to its type; a `oneOf` of payloads (Outbound | Inbound) as its first, outbound, member.
 */
function resolver(d: OpenApiDoc) {
  const resolve = (s: unknown): Schema => {
    let node = s as Schema;
    while (node && typeof node.$ref === 'string') {
      node = (node.$ref as string)
        .slice(2)
        .split('/')
        .reduce<unknown>((n, k) => (n as Schema)[k.replaceAll('~1', '/')], d) as Schema;
    }
    const union = (node?.anyOf ?? node?.oneOf) as Schema[] | undefined;
    if (union) {
      const members = union.map(resolve);
      const nonNull = members.filter((m) => m.type !== 'null');
      const first = nonNull[0]!;
      if (nonNull.length < members.length) {
        const t = first.type === undefined ? [] : Array.isArray(first.type) ? first.type : [first.type];
        return { ...first, type: [...t, 'null'], description: node.description ?? first.description };
      }
      return { ...first, description: node.description ?? first.description };
    }
    return node;
  };
  return resolve;
}

const typesOf = (s: Schema) => {
  const t = s.type;
  const list = (Array.isArray(t) ? t : t === undefined ? [] : [t]) as string[];
  return list.sort();
};

/** Where `ours` differs from `theirs`: fields, types, enums, required lists, recursively. */
function differences(
  ours: unknown,
  theirs: unknown,
  at: string,
  r: { ours: (s: unknown) => Schema; theirs: (s: unknown) => Schema },
  request = false,
): string[] {
  const a = r.ours(ours);
  const b = r.theirs(theirs);
  if (!a || !b) return [];
  const out: string[] = [];
  // A request field we also take as null (meaning absent) accepts more than Telnyx's, not less.
  const ta = typesOf(a).filter((t) => !request || t !== 'null' || typesOf(b).includes('null'));
  const tb = typesOf(b);
  if (tb.length > 0 && JSON.stringify(ta) !== JSON.stringify(tb)) out.push(`${at}: type ${ta} vs ${tb}`);
  if (
    Array.isArray(b.enum) &&
    JSON.stringify([...((a.enum as unknown[]) ?? [])].sort()) !== JSON.stringify([...b.enum].sort())
  ) {
    out.push(`${at}: enum ${JSON.stringify(a.enum)} vs ${JSON.stringify(b.enum)}`);
  }
  const pa = (a.properties ?? {}) as Record<string, Schema>;
  const pb = (b.properties ?? {}) as Record<string, Schema>;
  if (b.properties) {
    // A read-only field of a request body (id, created_at…) is one a client need not send.
    for (const k of Object.keys(pb)) {
      if (!(k in pa) && !(request && r.theirs(pb[k]).readOnly)) out.push(`${at}/${k}: missing`);
    }
    for (const k of Object.keys(pa)) {
      const extension = /^Extension/.test(String(r.ours(pa[k]).description ?? ''));
      if (!(k in pb) && !extension)
        out.push(`${at}/${k}: not in Telnyx's schema and not marked as an extension`);
    }
    const ra = [...((a.required as string[]) ?? [])].sort();
    const rb = [...((b.required as string[]) ?? [])].sort();
    // Telnyx marks almost nothing required in responses; ours lists what is always present. The
    // comparison is that every field Telnyx requires we require too.
    for (const k of rb) if (!ra.includes(k)) out.push(`${at}: ${k} required by Telnyx, not by us`);
  }
  for (const k of Object.keys(pb))
    if (k in pa) out.push(...differences(pa[k], pb[k], `${at}/${k}`, r, request));
  if (b.items && a.items) out.push(...differences(a.items, b.items, `${at}[]`, r, request));
  return out;
}

test('every route we implement matches the Telnyx subset (documented extensions aside)', () => {
  const specs = [
    readNullable(loadSpec(SPEC_FILES.messaging)),
    readNullable(loadSpec(SPEC_FILES.extra)),
  ] as OpenApiDoc[];
  const r = { ours: resolver(doc), theirs: resolver(specs[0]!) };
  let compared = 0;
  const problems: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (op['x-extension']) continue;
      const spec = specs.find((s) => s.paths[path]?.[method]);
      assert.ok(spec, `${method.toUpperCase()} ${path} is in a Telnyx subset or marked x-extension`);
      const theirs = spec.paths[path]![method]!;
      const rs = { ours: r.ours, theirs: resolver(spec) };
      const json = (o: unknown) =>
        (o as Schema | undefined)?.content as Record<string, { schema: unknown }> | undefined;
      const ourResponse = json((op.responses as Record<string, unknown>)['200'])!['application/json']!.schema;
      const theirResponse = json(rs.theirs((theirs.responses as Record<string, unknown>)['200']))?.[
        'application/json'
      ]?.schema;
      if (theirResponse)
        problems.push(...differences(ourResponse, theirResponse, `${method} ${path} 200`, rs));
      const ourBody = json(op.requestBody)?.['application/json']?.schema;
      const theirBody = json(rs.theirs(theirs.requestBody))?.['application/json']?.schema;
      if (ourBody && theirBody)
        problems.push(...differences(ourBody, theirBody, `${method} ${path} body`, rs, true));
      compared++;
    }
  }
  assert.ok(compared >= 13, `compared ${compared} operations`);
  assert.deepEqual(problems, []);
});

test("the official SDK's requests validate against the document", async () => {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema(doc as object, 'ours');
  const seen: string[] = [];
  const client = new Telnyx({
    apiKey: gw.apiKey,
    baseURL: `${gw.url}/v2`,
    maxRetries: 0,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const method = (init?.method ?? 'GET').toLowerCase();
      const path = url.pathname.replace(/^\/v2/, '');
      const entry = Object.entries(doc.paths).find(([p]) =>
        new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
      );
      assert.ok(entry?.[1][method], `${method} ${path} is in the document`);
      const op = entry[1][method]!;
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      const ref = (
        (op.requestBody as Schema | undefined)?.content as Record<string, { schema: { $ref: string } }>
      )?.['application/json']?.schema.$ref;
      if (ref) {
        const validate = ajv.compile({ $ref: `ours${ref}` });
        assert.ok(validate(body), `${op.operationId}: ${JSON.stringify(validate.errors)}`);
      }
      for (const key of url.searchParams.keys()) {
        const name = /^[^[]+/.exec(key)![0];
        assert.ok(
          (op.parameters as Array<{ name: string }> | undefined)?.some((p) => p.name === name),
          `${op.operationId} documents query parameter ${key}`,
        );
      }
      seen.push(String(op.operationId));
      return fetch(input, init);
    },
  });
  await client.messages.sendGroupMms({
    from: gw.numbers[0]!,
    to: ['+13125550100', '+13125550101'],
    text: 'Hi',
  });
  const profile = (await client.messagingProfiles.create({ name: 'SDK', whitelisted_destinations: ['US'] }))
    .data!;
  await client.messagingProfiles.update(profile.id!, { name: 'SDK 2', webhook_url: 'https://example.com/h' });
  await client.messagingProfiles.list({ page: { number: 1, size: 5 } } as never);
  await client.messagingProfiles.retrieve(profile.id!);
  await client.phoneNumbers.messaging.update(gw.numbers[1]!, { messaging_profile_id: profile.id! });
  await client.phoneNumbers.messaging.retrieve(gw.numbers[1]!);
  await client.webhookDeliveries.list({ filter: { status: { eq: 'delivered' } } });
  await client.messagingOptouts.list({
    filter: { messaging_profile_id: profile.id!, from: gw.numbers[1]! },
    created_at: { gte: '2024-01-01T00:00:00Z', lte: '2030-01-01T00:00:00Z' },
    redaction_enabled: 'true',
  });
  const configs = client.messagingProfiles.autorespConfigs;
  const config = (
    await configs.create(profile.id!, {
      op: 'stop',
      keywords: ['STOP'],
      country_code: 'US',
      resp_text: 'Bye',
    })
  ).data;
  await configs.list(profile.id!, { country_code: 'US', created_at: { gte: '2024-01-01T00:00:00Z' } });
  await configs.retrieve(config.id, { profile_id: profile.id! });
  await configs.update(config.id, {
    profile_id: profile.id!,
    op: 'info',
    keywords: ['INFO'],
    country_code: '*',
  });
  await configs.delete(config.id, { profile_id: profile.id! });
  await client.messagingProfiles.delete(profile.id!);
  assert.ok(seen.length >= 15, seen.join(','));
});
