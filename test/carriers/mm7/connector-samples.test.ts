import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createMm7Connector } from '../../../src/carriers/mm7/index.ts';
import type { CarrierSubmission } from '../../../src/carriers/types.ts';
import { sample } from './samples.ts';

/** An MMSC that answers every SubmitReq with the next canned answer, byte for byte. */
async function cannedMmsc() {
  const answers: Array<{ status: number; body: Buffer; contentType?: string; retryAfter?: string }> = [];
  const requests: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const next = answers.shift() ?? { status: 500, body: Buffer.from('no answer scripted') };
      res
        .writeHead(next.status, {
          'content-type': next.contentType ?? 'text/xml; charset=utf-8',
          ...('retryAfter' in next && next.retryAfter ? { 'retry-after': next.retryAfter } : {}),
        })
        .end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mm7`,
    answers,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const submission: CarrierSubmission = {
  idempotencyKey: 'k',
  messageId: 'm-1',
  from: '+13125550001',
  recipients: [
    { recipientId: 'a', phoneNumber: '+13125550100' },
    { recipientId: 'b', phoneNumber: '+13125550111' },
  ],
  text: 'hi',
  subject: null,
  media: [],
  attempt: 3,
};

describe('MM7 connector reads the sample answers', () => {
  let mmsc: Awaited<ReturnType<typeof cannedMmsc>>;
  before(async () => {
    mmsc = await cannedMmsc();
  });
  after(() => mmsc.close());
  const connector = () =>
    createMm7Connector({
      name: 'canned',
      url: mmsc.url,
      mm7Version: 'REL-5-MM7-1-2',
      defaultCountry: 'US',
      username: 'u',
      password: 'p',
    });

  it('submit-rsp.xml: every recipient accepted with MessageID 041502073667', async () => {
    mmsc.answers.push({ status: 200, body: sample('submit-rsp.xml') });
    const result = await connector().submit(submission);
    assert.deepEqual(result, {
      ok: true,
      recipients: [
        { recipientId: 'a', accepted: true, carrierMessageId: '041502073667' },
        { recipientId: 'b', accepted: true, carrierMessageId: '041502073667' },
      ],
    });
    const sent = mmsc.requests.at(-1)!;
    assert.equal(sent.headers.soapaction, '""');
    assert.equal(sent.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    assert.match(
      String(sent.headers['content-type']),
      /^multipart\/related; boundary="[^"]+"; type="text\/xml"; start="<mm7-soap>"$/,
    );
    const text = sent.body.toString('utf8');
    assert.match(text, /REL-5-MM7-1-2/);
    assert.match(text, /<MM7Version>5\.5\.0<\/MM7Version>/);
    assert.match(text, /TransactionID[^>]*>m-1-3</);
    assert.match(text, /<To><Number>\+13125550100<\/Number><Number>\+13125550111<\/Number><\/To>/);
  });

  it('fault.xml (HTTP 500): 4002 Unsupported version, permanent 40008 with the MM7 code in detail', async () => {
    mmsc.answers.push({ status: 500, body: sample('fault.xml') });
    assert.deepEqual(await connector().submit(submission), {
      ok: false,
      retryable: false,
      error: { code: '40008', title: 'Undeliverable', detail: 'MM7 4002 Unsupported version (HTTP 500)' },
    });
  });

  it('fault_02.xml (HTTP 500): 2002 Address Error, permanent 40012', async () => {
    mmsc.answers.push({ status: 500, body: sample('fault_02.xml') });
    assert.deepEqual(await connector().submit(submission), {
      ok: false,
      retryable: false,
      error: {
        code: '40012',
        title: 'Invalid messaging destination number',
        detail: 'MM7 2002 Address Error (HTTP 500)',
      },
    });
  });

  it('HTTP 503 with Retry-After and no SOAP: retryable 40006 after the given delay', async () => {
    mmsc.answers.push({ status: 503, body: Buffer.from('busy'), contentType: 'text/plain', retryAfter: '7' });
    const result = await connector().submit(submission);
    assert.ok(!result.ok);
    assert.deepEqual([result.retryable, result.error.code, result.retryAfterMs], [true, '40006', 7000]);
  });

  it('a 200 whose body is not MM7 is retryable: the MMSC may or may not have taken it', async () => {
    mmsc.answers.push({ status: 200, body: Buffer.from('<html>ok</html>'), contentType: 'text/html' });
    const result = await connector().submit(submission);
    assert.ok(!result.ok);
    assert.deepEqual([result.retryable, result.error.code], [true, '40006']);
  });
});

describe('MM7 connector over https', () => {
  it('submits to an https MMSC trusted through the dispatcher', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm7-tls-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const made = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ]);
    assert.equal(made.status, 0, made.stderr?.toString());
    const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    const server = https.createServer(
      { key: fs.readFileSync(path.join(dir, 'key.pem')), cert },
      (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-type': 'text/xml' }).end(sample('submit-rsp.xml')));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const dispatcher = new Agent({ connect: { ca: cert } });
    t.after(() => dispatcher.close());
    const settings = {
      name: 'tls',
      url: `https://127.0.0.1:${port}/mm7`,
      mm7Version: 'REL-6-MM7-1-4',
      defaultCountry: 'US',
    };
    const result = await createMm7Connector(settings, { dispatcher }).submit(submission);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.recipients[0]!.accepted && result.recipients[0]!.carrierMessageId, '041502073667');
    // Without trusting the certificate the TLS handshake fails: a network failure, retryable.
    const untrusted = await createMm7Connector(settings).submit(submission);
    assert.ok(!untrusted.ok);
    assert.equal(untrusted.retryable, true);
  });
});
