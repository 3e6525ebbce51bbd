import fc from 'fast-check';
import { Pool } from 'undici';

/**
 * Generated HTTP requests against every route of a running gateway (bodies, headers, paths, query
 * strings), sent over real connections. Used by `npm run fuzz` (100,000 and more) and by a short run
 * in `npm test`. The only claim checked here is the one that must hold for any input: no 5xx, and
 * the gateway is still alive and serving at the end.
 */

export interface FuzzTarget {
  /** `http://127.0.0.1:<port>` */
  url: string;
  apiKey: string;
  /** Ids the generated requests mix in, so that some reach real records. */
  profileId: string;
  /** A profile the fuzzer may PATCH (so the sender's own profile stays usable). */
  spareProfileId: string;
  /** Sender numbers attached to `profileId`. */
  senders: string[];
  /** A number the fuzzer may PATCH. */
  spareNumber: string;
  messageId: string;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface FuzzReport {
  count: number;
  byStatus: Record<string, number>;
  fiveXx: number;
  /** The first few 5xx answers, to reproduce them. */
  examples: Array<{ request: FuzzRequest; status: number; body: string }>;
  /** Requests the HTTP client itself refused to send (invalid header bytes and the like). */
  notSent: number;
  /** Status 0: no answer, the connection ended; by the client's error code. */
  noAnswer: Record<string, number>;
  durationMs: number;
  alive: boolean;
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes out as U+FFFD. */
function enc(value: string): string {
  return encodeURIComponent(value.replace(/\p{Cs}/gu, '\ufffd'));
}

const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'];

/** Any string, sometimes huge, sometimes with characters that need escaping everywhere. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '%', '%zz', '%00', '..', '../..', '\u0000', '\ud800', '😀', '{}', '[]', 'null'),
  fc.nat({ max: 10_000 }).map((n) => 'x'.repeat(n)),
  fc.uuid(),
);

function idArbitrary(t: FuzzTarget) {
  return fc.oneof(
    fc.constantFrom(t.profileId, t.spareProfileId, t.messageId, t.spareNumber, ...t.senders),
    fc.uuid(),
    nastyString,
    fc.nat({ max: 9_000 }).map((n) => 'a'.repeat(n)),
  );
}

/** A path segment, percent-encoded, or (sometimes) raw and possibly malformed. */
function segment(id: fc.Arbitrary<string>) {
  return fc.oneof(
    { weight: 4, arbitrary: id.map((s) => enc(s)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9%._~+!$&'()*,;=:@-]{0,40}$/) },
  );
}

function pathArbitrary(t: FuzzTarget) {
  const seg = segment(idArbitrary(t));
  const templates: Array<fc.Arbitrary<string>> = [
    fc.constant('/health'),
    fc.constant('/v2/public_key'),
    fc.constant('/v2/messages/group_mms'),
    fc.constant('/v2/messaging_profiles'),
    seg.map((s) => `/v2/messages/${s}`),
    seg.map((s) => `/v2/messages/group/${s}`),
    seg.map((s) => `/v2/messages/${s}/webhook_deliveries`),
    seg.map((s) => `/v2/messaging_profiles/${s}`),
    seg.map((s) => `/v2/messaging_profiles/${s}/phone_numbers`),
    seg.map((s) => `/v2/phone_numbers/${s}/messaging`),
    fc.constant('/v2/messaging_optouts'),
    seg.map((s) => `/v2/messaging_profiles/${s}/autoresp_configs`),
    fc.tuple(seg, seg).map(([p, c]) => `/v2/messaging_profiles/${p}/autoresp_configs/${c}`),
    fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), seg).map((s) => `/media/${s}`),
    fc.array(seg, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
    fc.constantFrom('/', '//', '/v2', '/v2/', '/v2/messages', '/v2/messages/', '/v2/messages/group/'),
  ];
  const query = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    {
      weight: 2,
      arbitrary: fc
        .array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom(
                'page[number]',
                'page[size]',
                'page',
                'filter[x]',
                'a[b][c]',
                'filter[from]',
                'filter[messaging_profile_id]',
                'created_at[gte]',
                'redaction_enabled',
              ),
              nastyString,
            ),
            fc.oneof(fc.integer().map(String), fc.constantFrom('-1', '0', '1e9', 'NaN', ''), nastyString),
          ),
          { maxLength: 5 },
        )
        .map((pairs) => `?${pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^\?[A-Za-z0-9%&=[\]._-]{0,60}$/) },
  );
  return fc.tuple(fc.oneof(...templates), query).map(([p, q]) => p + q);
}

function bodyArbitrary(t: FuzzTarget) {
  const anyJson = fc.jsonValue({ maxDepth: 4 });
  const url = fc.oneof(
    fc.constantFrom('http://127.0.0.1:9/hook', 'https://127.0.0.1/x.png', 'ftp://x', '', 'not a url'),
    fc.webUrl().map((u) => u.replace(/^(https?:\/\/)[^/]+/, '$1127.0.0.1')),
    nastyString,
  );
  const phone = fc.oneof(
    fc.constantFrom(...t.senders, '+13125550100', '+13125550101', '+447700900123', '+1', '13125550100'),
    fc.integer({ min: 0, max: 9_999_999 }).map((n) => `+1312555${String(n).padStart(4, '0').slice(0, 4)}`),
    nastyString,
  );
  const sometimes = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, anyJson, fc.constant(undefined));
  const groupMms = fc.record(
    {
      from: sometimes(phone),
      to: fc.oneof(fc.array(phone, { maxLength: 10 }), anyJson),
      text: sometimes(fc.oneof(fc.string(), nastyString)),
      subject: sometimes(nastyString),
      media_urls: sometimes(fc.array(url, { maxLength: 11 })),
      webhook_url: sometimes(url),
      webhook_failover_url: sometimes(url),
      use_profile_webhooks: sometimes(fc.boolean()),
    },
    { requiredKeys: [] },
  );
  const profile = fc.record(
    {
      name: sometimes(nastyString),
      enabled: sometimes(fc.boolean()),
      whitelisted_destinations: sometimes(
        fc.array(fc.constantFrom('US', 'GB', '*', 'us', 'XX'), { maxLength: 4 }),
      ),
      webhook_url: sometimes(url),
      webhook_api_version: sometimes(fc.constantFrom('1', '2', '2010-04-01', '3')),
      alpha_sender: sometimes(nastyString),
      daily_spend_limit: sometimes(fc.constantFrom('10', '1.5', '-1', 'abc')),
      number_pool_settings: sometimes(fc.oneof(anyJson, fc.nat({ max: 3_000 }).map(deepObject))),
      url_shortener_settings: sometimes(anyJson),
      redaction_level: sometimes(fc.integer()),
    },
    { requiredKeys: [] },
  );
  const numberSettings = fc.record(
    {
      messaging_profile_id: sometimes(
        fc.oneof(fc.constantFrom(t.profileId, t.spareProfileId, ''), nastyString),
      ),
      messaging_product: sometimes(nastyString),
      tags: sometimes(fc.array(nastyString, { maxLength: 60 })),
    },
    { requiredKeys: [] },
  );
  const autorespConfig = fc.record(
    {
      op: sometimes(fc.constantFrom('start', 'stop', 'info', 'pause')),
      keywords: sometimes(
        fc.array(fc.oneof(fc.constantFrom('STOP', 'help', 'Yes'), nastyString), { maxLength: 22 }),
      ),
      country_code: sometimes(fc.constantFrom('US', 'us', '*', 'USA', '')),
      resp_text: sometimes(nastyString),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.oneof(groupMms, profile, numberSettings, autorespConfig).map((v) => JSON.stringify(v)),
    },
    { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":1',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{}}}',
        '[]',
        'null',
        '"x"',
        '1e999999',
      ),
    },
    { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  );
}

function deepObject(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);

function headersArbitrary(t: FuzzTarget) {
  const auth = fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${t.apiKey}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', 'Bearer', 'Bearer ', `bearer  ${t.apiKey}  `, `Basic ${t.apiKey}`),
    },
    { weight: 1, arbitrary: headerValue.map((v) => `Bearer ${v}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'APPLICATION/JSON',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        '',
      ),
    },
    { weight: 1, arbitrary: headerValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const extra = fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerValue, { maxKeys: 3 });
  const special = fc.record(
    {
      'x-request-id': headerValue,
      accept: fc.constantFrom('*/*', 'application/json', 'text/html', ''),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
      'content-encoding': fc.constantFrom('gzip', 'deflate', 'identity', 'x'),
    },
    { requiredKeys: [] },
  );
  return fc.tuple(auth, contentType, extra, special).map(([a, c, e, s]) => {
    const headers: Record<string, string> = { ...e, ...s };
    if (a !== undefined) headers.authorization = a;
    if (c !== undefined) headers['content-type'] = c;
    return headers;
  });
}

export function requestArbitrary(t: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('GET', 'POST', 'PATCH') },
        { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
      ),
      pathArbitrary(t),
      headersArbitrary(t),
      fc.option(bodyArbitrary(t), { nil: undefined, freq: 4 }),
    )
    .map(([method, path, headers, body]) => {
      // Writes only ever aim at records the fuzzer owns or made up, so the sender's profile and
      // numbers keep working (the final liveness check sends through them).
      const safePath = method === 'GET' ? path : protect(path, t);
      const sendsBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
      return { method, path: safePath, headers, ...(sendsBody ? { body } : {}) };
    });
}

function protect(path: string, t: FuzzTarget): string {
  let safe = path.replaceAll(t.profileId, t.spareProfileId);
  for (const sender of t.senders) {
    safe = safe.replaceAll(enc(sender), enc(t.spareNumber)).replaceAll(sender, t.spareNumber);
  }
  return safe;
}

/** Sends `count` generated requests, `concurrency` at a time, and reports what came back. */
export async function runFuzz(
  target: FuzzTarget,
  opts: { count: number; seed: number; concurrency?: number; onProgress?: (done: number) => void },
): Promise<FuzzReport> {
  const pool = new Pool(target.url, { connections: opts.concurrency ?? 16, pipelining: 1 });
  const arbitrary = requestArbitrary(target);
  const report: FuzzReport = {
    count: 0,
    byStatus: {},
    fiveXx: 0,
    examples: [],
    notSent: 0,
    noAnswer: {},
    durationMs: 0,
    alive: false,
  };
  const started = performance.now();
  const batchSize = 1_000;
  try {
    for (let offset = 0; offset < opts.count; offset += batchSize) {
      const batch = fc.sample(arbitrary, {
        numRuns: Math.min(batchSize, opts.count - offset),
        seed: opts.seed + offset,
      });
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const request = batch[next++]!;
          await sendOne(pool, request, report);
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
      opts.onProgress?.(report.count + report.notSent);
    }
    report.durationMs = Math.round(performance.now() - started);
    report.alive = await isAlive(target);
  } finally {
    await pool.close();
  }
  return report;
}

async function sendOne(pool: Pool, request: FuzzRequest, report: FuzzReport): Promise<void> {
  let status: number;
  let text = '';
  try {
    const res = await pool.request({
      method: request.method as 'GET',
      path: request.path,
      headers: request.headers,
      body: request.body,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    status = res.statusCode;
    text = status >= 500 ? (await res.body.text()).slice(0, 500) : '';
    if (status < 500) await res.body.dump();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    // The client refused to put it on the wire (bad header bytes, a body on a method that takes
    // none...): nothing reached the gateway.
    if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED' || err instanceof TypeError) {
      report.notSent++;
      return;
    }
    // No answer: the gateway closed the connection on a request it found malformed, or an idle
    // keep-alive connection closed just as the request went out. Not a 5xx; counted by cause.
    status = 0;
    report.noAnswer[code || 'unknown'] = (report.noAnswer[code || 'unknown'] ?? 0) + 1;
  }
  report.count++;
  report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
  if (status >= 500) {
    report.fiveXx++;
    if (report.examples.length < 10) report.examples.push({ request: shorten(request), status, body: text });
  }
}

function shorten(r: FuzzRequest): FuzzRequest {
  const body = r.body === undefined ? undefined : String(r.body).slice(0, 300);
  return { ...r, path: r.path.slice(0, 300), ...(body === undefined ? {} : { body }) };
}

/** The gateway still answers /health and still accepts a valid message. */
async function isAlive(t: FuzzTarget): Promise<boolean> {
  const health = await fetch(`${t.url}/health`);
  if (health.status !== 200) return false;
  const sent = await fetch(`${t.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: t.senders[0], to: ['+13125550100'], text: 'still alive' }),
  });
  return sent.status === 200;
}

/**
 * A fuzz target on a freshly bootstrapped gateway, set up over HTTP: a spare profile, one of the
 * sandbox numbers set aside as the spare, and one message to read back.
 */
export async function prepareFuzzTarget(
  url: string,
  apiKey: string,
  sandbox: { profileId: string; numbers: string[] },
): Promise<FuzzTarget> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: { id: string } }).data;
  };
  const senders = sandbox.numbers.slice(0, -1);
  const spare = await post('/v2/messaging_profiles', {
    name: 'fuzz spare',
    whitelisted_destinations: ['US'],
  });
  const message = await post('/v2/messages/group_mms', {
    from: senders[0],
    to: ['+13125550100', '+13125550101'],
    text: 'hi',
  });
  return {
    url,
    apiKey,
    profileId: sandbox.profileId,
    spareProfileId: spare.id,
    senders,
    spareNumber: sandbox.numbers.at(-1)!,
    messageId: message.id,
  };
}

/** One line a person reads: count, 5xx, duration, rate. */
export function summarize(report: FuzzReport): string {
  const rate = Math.round((report.count / report.durationMs) * 1000);
  const statuses = Object.entries(report.byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
  const noAnswer = Object.entries(report.noAnswer)
    .map(([code, n]) => `${code}:${n}`)
    .join(' ');
  return `${report.count} requests, ${report.fiveXx} × 5xx, ${(report.durationMs / 1000).toFixed(1)} s (${rate}/s), gateway ${report.alive ? 'alive' : 'NOT alive'} at the end; not sent by the client: ${report.notSent}; statuses ${statuses}${noAnswer ? `; no answer (0) by cause: ${noAnswer}` : ''}`;
}
