import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { type RawResponse, rawRequest } from '../support/raw-http.ts';

// Every refusal at the HTTP level (Fastify's router and body parser, Node's HTTP parser) is answered
// in Telnyx's error shape with a catalogue code, and never echoes what the client sent.

const ECHO_MARKER = 'zqxjecho';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertTelnyxError(res: RawResponse, status: number, code: string) {
  assert.equal(res.status, status, res.body);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(res.body) as { errors: Array<Record<string, unknown>> };
  assert.equal(Object.keys(body).join(), 'errors');
  assert.equal(body.errors.length, 1);
  const [error] = body.errors as [
    { code: string; title: string; detail: string; meta: { request_id: string } } & Record<string, unknown>,
  ];
  assert.equal(error.code, code);
  assert.equal(typeof error.title, 'string');
  assert.equal(typeof error.detail, 'string');
  assert.match(error.meta.request_id, UUID_RE);
  assert.equal(res.headers['x-request-id'], error.meta.request_id);
  for (const key of Object.keys(error))
    assert.ok(['code', 'title', 'detail', 'source', 'meta'].includes(key), key);
  assert.ok(!res.body.includes(ECHO_MARKER), `the answer echoes the input: ${res.body}`);
}

function http(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) {
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

describe('HTTP-level errors in Telnyx shape', () => {
  let gw: TestGateway;
  let auth: Record<string, string>;
  before(async () => {
    gw = await startTestGateway({ env: { BODY_LIMIT_BYTES: '4096' } });
    auth = { Authorization: `Bearer ${gw.apiKey}` };
  });
  after(() => gw.close());

  test('unknown route → 404 10005, the path not echoed', async () => {
    assertTelnyxError(await rawRequest(gw.url, http('GET', `/v2/${ECHO_MARKER}`, auth)), 404, '10005');
  });

  test('a known path with another method → 405 10030 with Allow', async () => {
    const res = await rawRequest(gw.url, http('DELETE', '/v2/messages/group_mms', auth));
    assertTelnyxError(res, 405, '10030');
    // GET matches /v2/messages/:id.
    assert.deepEqual(res.headers.allow?.split(', ').sort(), ['GET', 'HEAD', 'POST']);
    const patch = await rawRequest(gw.url, http('PUT', `/v2/messaging_profiles/${ECHO_MARKER}`, auth));
    assertTelnyxError(patch, 405, '10030');
    assert.deepEqual(patch.headers.allow?.split(', ').sort(), ['DELETE', 'GET', 'HEAD', 'PATCH']);
  });

  test('a method the HTTP parser does not know → 405 10030', async () => {
    assertTelnyxError(await rawRequest(gw.url, http('BREW', '/v2/messages/group_mms', auth)), 405, '10030');
  });

  test('a body over the limit → 413 10033', async () => {
    const body = JSON.stringify({
      from: '+13125550001',
      to: ['+13125550100'],
      text: ECHO_MARKER.repeat(1000),
    });
    const res = await rawRequest(
      gw.url,
      http('POST', '/v2/messages/group_mms', { ...auth, 'Content-Type': 'application/json' }, body),
    );
    assertTelnyxError(res, 413, '10033');
  });

  test('an 8,000-character id → 414 10003, the id not echoed', async () => {
    const id = ECHO_MARKER.repeat(1000);
    assertTelnyxError(await rawRequest(gw.url, http('GET', `/v2/messages/${id}`, auth)), 414, '10003');
    assertTelnyxError(
      await rawRequest(gw.url, http('PATCH', `/v2/phone_numbers/${id}/messaging`, auth)),
      414,
      '10003',
    );
  });

  test('60 KB of headers → 431 10015, none echoed', async () => {
    const big = { ...auth, 'X-Filler': ECHO_MARKER.repeat(7500) };
    assertTelnyxError(await rawRequest(gw.url, http('GET', '/v2/messaging_profiles', big)), 431, '10015');
  });

  test('bad percent-encoding in the path → 400 10015', async () => {
    const res = await rawRequest(gw.url, http('GET', `/v2/messages/${ECHO_MARKER}%E0%A4%A`, auth));
    assertTelnyxError(res, 400, '10015');
  });

  test('Content-Length together with Transfer-Encoding → 400 10015', async () => {
    const body = '{"text":"zqxjecho"}';
    const res = await rawRequest(
      gw.url,
      http(
        'POST',
        '/v2/messages/group_mms',
        {
          ...auth,
          'Content-Type': 'application/json',
          'Content-Length': String(body.length),
          'Transfer-Encoding': 'chunked',
        },
        `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      ),
    );
    assertTelnyxError(res, 400, '10015');
  });

  test('a malformed chunked body → 400 10015', async () => {
    const res = await rawRequest(
      gw.url,
      http(
        'POST',
        '/v2/messages/group_mms',
        { ...auth, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        `zz\r\n${ECHO_MARKER}\r\n0\r\n\r\n`,
      ),
    );
    assertTelnyxError(res, 400, '10015');
  });

  test('bad JSON → 400 10023, the body not echoed', async () => {
    const res = await rawRequest(
      gw.url,
      http(
        'POST',
        '/v2/messages/group_mms',
        { ...auth, 'Content-Type': 'application/json' },
        `{"${ECHO_MARKER}`,
      ),
    );
    assertTelnyxError(res, 400, '10023');
  });

  test('an unsupported media type → 415 10029', async () => {
    const res = await rawRequest(
      gw.url,
      http(
        'POST',
        '/v2/messages/group_mms',
        { ...auth, 'Content-Type': `application/${ECHO_MARKER}` },
        'x=1',
      ),
    );
    assertTelnyxError(res, 415, '10029');
  });

  test('a declared Content-Length over the limit → 413 10033 before the body is read', async () => {
    const res = await rawRequest(
      gw.url,
      http(
        'POST',
        '/v2/messages/group_mms',
        { ...auth, 'Content-Type': 'application/json', 'Content-Length': '5000' },
        '{}',
      ),
    );
    assertTelnyxError(res, 413, '10033');
  });

  test('the gateway still answers afterwards', async () => {
    const res = await fetch(`${gw.url}/health`);
    assert.equal(res.status, 200);
  });
});
