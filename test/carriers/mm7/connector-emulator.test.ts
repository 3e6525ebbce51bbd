import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createMm7Connector, type Mm7Inbound, type Mm7Settings } from '../../../src/carriers/mm7/index.ts';
import type { CarrierSubmission, SubmitResult } from '../../../src/carriers/types.ts';
import { type MmscEmulator, startMmscEmulator } from '../../../src/mmsc/emulator.ts';
import { freePort } from '../../support/free-port.ts';
import { waitFor } from '../../support/wait-for.ts';
import { startMm7Receiver } from './mm7-receiver.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(2000, 0xab),
]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function submission(to: string[], overrides: Partial<CarrierSubmission> = {}): CarrierSubmission {
  return {
    idempotencyKey: 'k1',
    messageId: `msg-${Math.random().toString(36).slice(2)}`,
    from: '+13125550001',
    recipients: to.map((phoneNumber, i) => ({ recipientId: `r${i}`, phoneNumber })),
    text: 'Hello group ✓',
    subject: 'Plans',
    media: [
      {
        url: 'http://127.0.0.1/media/photo.png',
        contentType: 'image/png',
        size: PNG.length,
        sha256: sha256(PNG),
        read: async () => PNG,
      },
    ],
    attempt: 1,
    ...overrides,
  };
}

type Report = Extract<Mm7Inbound, { kind: 'DeliveryReportReq' }>;

describe('MM7 connector against the MMSC emulator', () => {
  let receiver: Awaited<ReturnType<typeof startMm7Receiver>>;
  let mmsc: MmscEmulator;
  let settings: Mm7Settings;

  before(async () => {
    receiver = await startMm7Receiver({ username: 'in', password: 'in-secret' });
    mmsc = await startMmscEmulator({
      gatewayUrl: receiver.url,
      gatewayUsername: 'in',
      gatewayPassword: 'in-secret',
      username: 'vasp',
      password: 'out-secret',
      reportRetryMs: 20,
      reportRetryMaxMs: 100,
    });
    settings = {
      name: 'mmsc-test',
      url: mmsc.url,
      vaspId: 'VASP1',
      vasId: 'VAS1',
      serviceCode: 'SC1',
      username: 'vasp',
      password: 'out-secret',
      mm7Version: 'REL-6-MM7-1-4',
      defaultCountry: 'US',
      timeoutMs: 2000,
    };
  });
  after(async () => {
    await mmsc.close();
    await receiver.close();
  });

  it('one SubmitReq for the group; the emulator finds nothing wrong; every recipient gets the MessageID and a report', async () => {
    const to = ['+13125550100', '+13125550111', '+13125550101'];
    const result = await createMm7Connector(settings).submit(submission(to));
    assert.equal(result.ok, true, JSON.stringify(result));
    const sub = mmsc.submissions.at(-1)!;
    assert.deepEqual(sub.problems, []);
    assert.deepEqual(sub.to, to);
    assert.equal(sub.senderAddress, '+13125550001');
    assert.deepEqual(
      [sub.vaspId, sub.vasId, sub.serviceCode, sub.subject, sub.deliveryReport],
      ['VASP1', 'VAS1', 'SC1', 'Plans', true],
    );
    assert.equal(sub.mm7Version, '6.8.0');
    assert.equal(sub.schema, 'REL-6-MM7-1-4');
    assert.deepEqual(
      sub.parts.map((p) => [p.contentType, p.sha256]),
      [
        ['text/plain', sha256(Buffer.from('Hello group ✓'))],
        ['image/png', sha256(PNG)],
      ],
    );
    assert.match(sub.smil ?? '', /<smil>/);
    assert.equal(mmsc.submissions.length, 1);
    assert.ok(result.ok);
    const ids = new Set(result.recipients.map((r) => (r.accepted ? r.carrierMessageId : 'refused')));
    assert.deepEqual([...ids], [sub.messageId]);

    const reports = await waitFor(() => {
      const mine = receiver.received.filter(
        (r): r is Report => r.kind === 'DeliveryReportReq' && r.messageId === sub.messageId,
      );
      return mine.length === 3 && mine;
    });
    assert.deepEqual(reports.map((r) => [r.recipient.value, r.mmStatus]).sort(), [
      ['+13125550100', 'Retrieved'],
      ['+13125550101', 'Rejected'],
      ['+13125550111', 'Retrieved'],
    ]);
    assert.deepEqual(reports[0]!.sender, { kind: 'number', value: '+13125550001' });
  });

  it('wrong credentials: HTTP 401 is a permanent 10009', async () => {
    const result = await createMm7Connector({ ...settings, password: 'wrong' }).submit(
      submission(['+13125550100']),
    );
    assert.deepEqual(result, {
      ok: false,
      retryable: false,
      error: { code: '10009', title: 'Authentication failed', detail: 'MMSC answered HTTP 401' },
    });
    assert.deepEqual(mmsc.submissions.at(-1)!.problems, ['authentication failed']);
  });

  it('scripted faults are classified: 4006 retryable, 2004 permanent, HTTP 503 retryable, HTTP 400 permanent', async () => {
    const connector = createMm7Connector(settings);
    const cases: Array<[Parameters<MmscEmulator['fault']>[0], boolean, string, RegExp]> = [
      [
        { statusCode: 4006, statusText: 'Service unavailable' },
        true,
        '40006',
        /MM7 4006 Service unavailable/,
      ],
      [{ statusCode: 2004, statusText: 'Multimedia content refused' }, false, '40317', /MM7 2004/],
      [{ statusCode: 3000, httpStatus: 200 }, true, '40006', /MM7 3000/],
      [{ httpStatus: 503 }, true, '40006', /HTTP 503/],
      [{ httpStatus: 400 }, false, '40008', /HTTP 400/],
    ];
    for (const [rule, retryable, code, detail] of cases) {
      mmsc.fault(rule);
      const result = await connector.submit(submission(['+13125550100']));
      assert.equal(result.ok, false, JSON.stringify(rule));
      assert.ok(!result.ok);
      assert.equal(result.retryable, retryable, JSON.stringify(rule));
      assert.equal(result.error.code, code);
      assert.match(result.error.detail ?? '', detail);
    }
  });

  it('magic numbers: 0102 refuses the group with 2002 (permanent 40012); 0106 is unavailable twice, then accepted', async () => {
    const connector = createMm7Connector(settings);
    const refused = await connector.submit(submission(['+13125550100', '+13125550102']));
    assert.ok(!refused.ok);
    assert.deepEqual([refused.retryable, refused.error.code], [false, '40012']);
    const results: SubmitResult[] = [];
    for (let attempt = 1; attempt <= 3; attempt++)
      results.push(await connector.submit(submission(['+14155550106'], { attempt })));
    assert.deepEqual(
      results.map((r) => (r.ok ? 'ok' : `${r.retryable}:${r.error.code}`)),
      ['true:40006', 'true:40006', 'ok'],
    );
  });

  it('a hanging MMSC is a retryable timeout; a dropped answer is retryable (and MM7 may then deliver twice)', async () => {
    const connector = createMm7Connector({ ...settings, timeoutMs: 300 });
    mmsc.fault({ hang: true });
    const hung = await connector.submit(submission(['+13125550100']));
    assert.ok(!hung.ok);
    assert.deepEqual([hung.retryable, hung.error.code], [true, '40006']);
    assert.match(hung.error.detail ?? '', /no answer within 300 ms/);

    mmsc.fault({ dropAnswer: true });
    const dropped = await connector.submit(submission(['+13125550100']));
    assert.ok(!dropped.ok);
    assert.equal(dropped.retryable, true);
    assert.ok(mmsc.submissions.at(-1)!.messageId, 'the MMSC accepted it before the answer was lost');
  });

  it('a refused connection is retryable', async () => {
    const port = await freePort();
    const result = await createMm7Connector({ ...settings, url: `http://127.0.0.1:${port}/mm7` }).submit(
      submission(['+13125550100']),
    );
    assert.ok(!result.ok);
    assert.deepEqual([result.retryable, result.error.code], [true, '40006']);
    assert.match(result.error.detail ?? '', /ECONNREFUSED/);
  });

  it('reports posted while the receiver is down arrive once it is back; held reports can be duplicated and reversed', async () => {
    receiver.setDown(true);
    const connector = createMm7Connector(settings);
    const result = await connector.submit(submission(['+13125550100', '+13125550103']));
    assert.ok(result.ok);
    const messageId = mmsc.submissions.at(-1)!.messageId!;
    await waitFor(
      () => mmsc.reports.filter((r) => r.messageId === messageId && r.attempts >= 2).length === 2,
    );
    receiver.setDown(false);
    await waitFor(() => mmsc.reports.filter((r) => r.messageId === messageId).every((r) => r.answeredAt));
    const got = receiver.received.filter(
      (r): r is Report => r.kind === 'DeliveryReportReq' && r.messageId === messageId,
    );
    assert.deepEqual(got.map((r) => r.mmStatus).sort(), ['Expired', 'Retrieved']);

    mmsc.controlReports({ hold: true, duplicate: true, reverse: true });
    const second = await connector.submit(submission(['+13125550100', '+13125550105']));
    assert.ok(second.ok);
    const id2 = mmsc.submissions.at(-1)!.messageId!;
    mmsc.controlReports({ hold: false });
    const seq = await waitFor(() => {
      const mine = receiver.received.filter(
        (r): r is Report => r.kind === 'DeliveryReportReq' && r.messageId === id2,
      );
      return mine.length === 6 && mine;
    });
    // Scheduled: 0100 Retrieved, 0105 Deferred, 0105 Retrieved, each twice; released newest first.
    assert.deepEqual(
      seq.map((r) => `${r.recipient.value.slice(-4)} ${r.mmStatus}`),
      [
        '0105 Retrieved',
        '0105 Retrieved',
        '0105 Deferred',
        '0105 Deferred',
        '0100 Retrieved',
        '0100 Retrieved',
      ],
    );
    mmsc.controlReports({ duplicate: false, reverse: false });
  });

  it('a handset DeliverReq with To, Cc, Bcc, text and media reads back through our parser', async () => {
    const answer = await mmsc.deliver({
      from: '13125550100/TYPE=PLMN',
      to: ['+13125550001'],
      cc: ['+13125550111'],
      bcc: ['+13125550112'],
      subject: 'Re: Plans',
      text: 'Count me in',
      media: [{ contentType: 'image/png', bytes: PNG, filename: 'reply.png' }],
    });
    assert.deepEqual([answer.httpStatus, answer.statusCode], [200, 1000]);
    const got = receiver.received.at(-1)!;
    assert.equal(got.kind, 'DeliverReq');
    assert.ok(got.kind === 'DeliverReq');
    assert.deepEqual(got.sender, { kind: 'number', value: '13125550100' });
    assert.deepEqual(
      [got.to, got.cc, got.bcc].map((l) => l.map((a) => a.value)),
      [['+13125550001'], ['+13125550111'], ['+13125550112']],
    );
    assert.equal(got.subject, 'Re: Plans');
    assert.equal(got.text, 'Count me in');
    assert.deepEqual(
      got.parts.map((p) => [p.contentType, sha256(p.bytes)]),
      [
        ['text/plain', sha256(Buffer.from('Count me in'))],
        ['image/png', sha256(PNG)],
        ['application/smil', got.parts[2] ? sha256(got.parts[2].bytes) : ''],
      ],
    );
    assert.match(got.parts[2]!.bytes.toString(), /cid:part1/);
  });

  it('a handset ReadReplyReq reads back through our parser', async () => {
    const answer = await mmsc.readReply({ messageId: 'mmsc-42', from: '+13125550100', to: '+13125550001' });
    assert.deepEqual([answer.httpStatus, answer.statusCode], [200, 1000]);
    const got = receiver.received.at(-1)!;
    assert.ok(got.kind === 'ReadReplyReq');
    assert.deepEqual(
      [got.messageId, got.mmStatus, got.sender?.value, got.recipient?.value],
      ['mmsc-42', 'Read', '+13125550100', '+13125550001'],
    );
  });
});
