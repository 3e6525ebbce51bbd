import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { readMm7Answer } from '../../../src/carriers/mm7/responses.ts';
import { type MmscEmulator, startMmscEmulator } from '../../../src/mmsc/emulator.ts';
import { CLI_ENTRY } from '../../support/gateway.ts';
import { waitFor } from '../../support/wait-for.ts';
import { startMm7Receiver } from './mm7-receiver.ts';

const NS = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2';
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////',
  'base64',
);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A SubmitReq written by hand in the style of the spec's examples (LF, prefixed elements, base64). */
function handSubmit(opts: { recipients?: string; smil?: string; tid?: string } = {}) {
  const recipients =
    opts.recipients ??
    '<mm7:To><mm7:Number>15551230001/TYPE=PLMN</mm7:Number></mm7:To><mm7:Cc><mm7:Number>+15551230002</mm7:Number></mm7:Cc>';
  const smil =
    opts.smil ??
    '<smil><body><par dur="3s"><img src="cid:image"/></par><par dur="7s"><text src="cid:text"/></par></body></smil>';
  const soap = `<?xml version="1.0"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
 <soap:Header><mm7:TransactionID xmlns:mm7="${NS}" soap:mustUnderstand="1">${opts.tid ?? 'hand-1'}</mm7:TransactionID></soap:Header>
 <soap:Body>
  <mm7:SubmitReq xmlns:mm7="${NS}">
   <mm7:MM7Version>5.5.0</mm7:MM7Version>
   <mm7:SenderIdentification><mm7:VASPID>v</mm7:VASPID><mm7:SenderAddress><mm7:ShortCode>12345</mm7:ShortCode></mm7:SenderAddress></mm7:SenderIdentification>
   <mm7:Recipients>${recipients}</mm7:Recipients>
   <mm7:DeliveryReport>true</mm7:DeliveryReport>
   <mm7:Subject>hand built</mm7:Subject>
   <mm7:Content href="cid:content"/>
  </mm7:SubmitReq>
 </soap:Body>
</soap:Envelope>`;
  const body = [
    '--outer',
    'Content-Type: text/xml; charset="utf-8"',
    'Content-ID: <soap>',
    '',
    soap,
    '--outer',
    'Content-Type: multipart/related; boundary="inner"; type="application/smil"; start="<smil>"',
    'Content-ID: <content>',
    '',
    '--inner',
    'Content-Type: application/smil',
    'Content-ID: <smil>',
    '',
    smil,
    '--inner',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-ID: text',
    '',
    'hello',
    '--inner',
    'Content-Type: image/jpeg',
    'Content-ID: <image>',
    'Content-Transfer-Encoding: base64',
    '',
    JPEG.toString('base64'),
    '--inner--',
    '--outer--',
    '',
  ].join('\n');
  return { body, contentType: 'multipart/related; boundary=outer; type="text/xml"; start="<soap>"' };
}

async function post(
  url: string,
  input: { body: string; contentType: string },
  headers: Record<string, string> = {},
) {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': input.contentType, soapaction: '""', ...headers },
    body: input.body,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

const AUTH = { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` };

describe('MMSC emulator against hand-built requests', () => {
  let receiver: Awaited<ReturnType<typeof startMm7Receiver>>;
  let mmsc: MmscEmulator;
  let control: string;

  before(async () => {
    receiver = await startMm7Receiver();
    mmsc = await startMmscEmulator({
      gatewayUrl: receiver.url,
      username: 'u',
      password: 'p',
      reportRetryMs: 20,
    });
    control = mmsc.url.replace(/\/mm7$/, '/control');
  });
  after(async () => {
    await mmsc.close();
    await receiver.close();
  });

  it('accepts a spec-style SubmitReq, answers SubmitRsp 1000 with a MessageID, reports to every recipient', async () => {
    const { status, text } = await post(mmsc.url, handSubmit(), AUTH);
    assert.equal(status, 200, text);
    const answer = readMm7Answer(text);
    assert.equal(answer.kind === 'response' && answer.element, 'SubmitRsp');
    assert.equal(answer.statusCode, 1000);
    assert.equal(answer.transactionId, 'hand-1');
    const sub = mmsc.submissions.at(-1)!;
    assert.deepEqual(sub.problems, []);
    assert.deepEqual(
      [sub.to, sub.cc, sub.senderAddress, sub.mm7Version],
      [['15551230001/TYPE=PLMN'], ['+15551230002'], '12345', '5.5.0'],
    );
    assert.deepEqual(
      sub.parts.map((p) => [p.contentType, p.sha256]),
      [
        ['text/plain', sha256(Buffer.from('hello'))],
        ['image/jpeg', sha256(JPEG)],
      ],
    );
    await waitFor(
      () =>
        receiver.received.filter((r) => r.kind === 'DeliveryReportReq' && r.messageId === sub.messageId)
          .length === 2,
    );
  });

  it('refuses with RSErrorRsp 4004 what breaks the spec, naming the problem', async () => {
    const cases: Array<[Parameters<typeof handSubmit>[0], RegExp]> = [
      [{ recipients: '<mm7:To></mm7:To>' }, /Recipients holds no address/],
      [
        { smil: '<smil><body><par><text src="cid:text"/></par></body></smil>' },
        /part <image> is not referenced by the SMIL/,
      ],
      [
        {
          smil: '<smil><body><par><img src="cid:image"/><text src="cid:text"/><audio src="cid:gone"/></par></body></smil>',
        },
        /SMIL src "cid:gone" names no part/,
      ],
      [{ smil: '<smil><body><par>' }, /SMIL is not well-formed/],
      [{ tid: '' }, /TransactionID header missing/],
    ];
    for (const [opts, problem] of cases) {
      const { status, text } = await post(mmsc.url, handSubmit(opts), AUTH);
      assert.equal(status, 500);
      const answer = readMm7Answer(text);
      assert.equal(answer.kind, 'fault');
      assert.equal(answer.statusCode, 4004);
      assert.match(answer.statusText ?? '', problem);
      assert.ok(mmsc.submissions.at(-1)!.problems.some((p) => problem.test(p)));
    }
    const truncated = handSubmit();
    const cut = await post(mmsc.url, { ...truncated, body: truncated.body.slice(0, -20) }, AUTH);
    assert.match(readMm7Answer(cut.text).statusText ?? '', /truncated/);
  });

  it('asks for credentials when configured', async () => {
    const res = await request(mmsc.url, {
      method: 'POST',
      body: handSubmit().body,
      headers: { 'content-type': handSubmit().contentType },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Basic realm="mmsc"');
    await res.body.dump();
  });

  it('control API: scripted fault, submissions with SHA-256s, handset delivery', async () => {
    let res = await request(`${control}/faults`, {
      method: 'POST',
      body: JSON.stringify({ statusCode: 3001, statusText: 'Not Possible' }),
    });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    const faulted = await post(mmsc.url, handSubmit(), AUTH);
    assert.deepEqual([faulted.status, readMm7Answer(faulted.text).statusCode], [500, 3001]);
    assert.deepEqual(readMm7Answer((await post(mmsc.url, handSubmit(), AUTH)).text).statusCode, 1000);

    res = await request(`${control}/submissions`);
    const listed = (await res.body.json()) as {
      data: Array<{ parts: Array<{ sha256: string; bytes?: unknown }> }>;
    };
    const last = listed.data.at(-1)!;
    assert.equal(last.parts[1]!.sha256, sha256(JPEG));
    assert.equal(last.parts[1]!.bytes, undefined);

    res = await request(`${control}/deliver`, {
      method: 'POST',
      body: JSON.stringify({
        from: '+15551230001',
        to: ['+15551239999'],
        text: 'mo',
        media: [{ content_type: 'image/jpeg', base64: JPEG.toString('base64') }],
      }),
    });
    const delivered = (await res.body.json()) as { data: { httpStatus: number; statusCode: number } };
    assert.deepEqual([delivered.data.httpStatus, delivered.data.statusCode], [200, 1000]);
    const mo = receiver.received.at(-1)!;
    assert.ok(mo.kind === 'DeliverReq');
    assert.equal(mo.text, 'mo');
    assert.equal(sha256(mo.parts.find((p) => p.contentType === 'image/jpeg')!.bytes), sha256(JPEG));
  });
});

describe('mms-gateway mmsc (CLI)', () => {
  it('starts, prints its URLs, and serves the control API', async () => {
    // The CLI from source, as the other CLI tests run it (the bin runs the compiled build).
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'mmsc', '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`mmsc exited with ${code}`)));
      });
      const { url, control_url } = JSON.parse(line) as { url: string; control_url: string };
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mm7$/);
      const res = await request(`${control_url}/submissions`);
      assert.deepEqual(await res.body.json(), { data: [] });
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
