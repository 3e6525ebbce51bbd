import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Mm7Fault,
  type Mm7Inbound,
  mapMmStatus,
  normalizeMm7Number,
  parseMm7Request,
} from '../../../src/carriers/mm7/index.ts';
import { sample } from './samples.ts';

const NS5 = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2';
const NS6 = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';

function envelope(body: string, opts: { prefix?: string; ns?: string; tid?: string } = {}): string {
  const p = opts.prefix ?? 'SOAP-ENV';
  return `<?xml version="1.0" encoding="UTF-8"?>
<${p}:Envelope xmlns:${p}="http://schemas.xmlsoap.org/soap/envelope/">
<${p}:Header><TransactionID xmlns="${opts.ns ?? NS6}" ${p}:mustUnderstand="1">${opts.tid ?? ' tx-1 '}</TransactionID></${p}:Header>
<${p}:Body>${body}</${p}:Body></${p}:Envelope>`;
}

function multipart(
  boundary: string,
  parts: Array<{ headers: string[]; body: string | Buffer }>,
  eol = '\r\n',
): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}${eol}${part.headers.join(eol)}${eol}${eol}`, 'latin1'));
    chunks.push(typeof part.body === 'string' ? Buffer.from(part.body, 'utf8') : part.body);
    chunks.push(Buffer.from(eol));
  }
  chunks.push(Buffer.from(`--${boundary}--${eol}`));
  return Buffer.concat(chunks);
}

function expectFault(fn: () => unknown, statusCode = 4004): Mm7Fault {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof Mm7Fault, `expected Mm7Fault, got ${String(err)}`);
    assert.equal(err.statusCode, statusCode);
    return err;
  }
  assert.fail('expected an Mm7Fault');
}

type Of<K extends Mm7Inbound['kind']> = Extract<Mm7Inbound, { kind: K }>;
function as<K extends Mm7Inbound['kind']>(kind: K, value: Mm7Inbound): Of<K> {
  assert.equal(value.kind, kind, JSON.stringify(value));
  return value as Of<K>;
}

describe('MM7 DeliveryReportReq and ReadReplyReq', () => {
  it('REL-5 default namespace, Number with /TYPE=PLMN and no +, whitespace around values', () => {
    const xml = envelope(
      `<DeliveryReportReq xmlns="${NS5}"><MM7Version> 5.5.0 </MM7Version><MMSRelayServerID>mmsc</MMSRelayServerID>
       <MessageID> 0415-xyz </MessageID><Recipient><Number>13125550100/TYPE=PLMN</Number></Recipient>
       <Sender><ShortCode>12345</ShortCode></Sender><Date>2024-05-01T10:00:00Z</Date>
       <MMStatus>Retrieved</MMStatus><StatusText>Delivered &amp; read</StatusText></DeliveryReportReq>`,
      { ns: NS5 },
    );
    const req = as('DeliveryReportReq', parseMm7Request(Buffer.from(xml), 'text/xml; charset=utf-8'));
    assert.equal(req.transactionId, 'tx-1');
    assert.equal(req.mm7Version, '5.5.0');
    assert.equal(req.schema, 'REL-5-MM7-1-2');
    assert.equal(req.messageId, '0415-xyz');
    assert.deepEqual(req.recipient, { kind: 'number', value: '13125550100' });
    assert.deepEqual(req.sender, { kind: 'shortcode', value: '12345' });
    assert.equal(req.mmStatus, 'Retrieved');
    assert.equal(req.statusText, 'Delivered & read');
    assert.equal(req.date?.toISOString(), '2024-05-01T10:00:00.000Z');
    assert.equal(normalizeMm7Number(req.recipient, 'US'), '+13125550100');
  });

  it('any prefix on every element, multipart/related around a lone SOAP part', () => {
    const xml = envelope(
      `<m:DeliveryReportReq xmlns:m="${NS6}"><m:MM7Version>6.8.0</m:MM7Version><m:MessageID>id-9</m:MessageID>
       <m:Recipient><m:RFC2822Address>+447400123456/TYPE=PLMN@mms.example</m:RFC2822Address></m:Recipient>
       <m:MMStatus>Expired</m:MMStatus></m:DeliveryReportReq>`,
      { prefix: 'S' },
    );
    const body = multipart('b1', [{ headers: ['Content-Type: text/xml'], body: xml }]);
    const req = as(
      'DeliveryReportReq',
      parseMm7Request(body, 'multipart/related; boundary=b1; type="text/xml"'),
    );
    assert.deepEqual(req.recipient, { kind: 'email', value: '+447400123456@mms.example' });
    assert.equal(normalizeMm7Number(req.recipient, 'US'), '+447400123456');
    assert.deepEqual(mapMmStatus(req.mmStatus)?.status, 'delivery_failed');
  });

  it('ReadReplyReq is read; an operation we do not handle is reported as unsupported', () => {
    const read = as(
      'ReadReplyReq',
      parseMm7Request(
        Buffer.from(
          envelope(
            `<ReadReplyReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version><MessageID>m1</MessageID><Recipient><Number>+13125550001</Number></Recipient><Sender><Number>+13125550100</Number></Sender><TimeStamp>2024-01-01T00:00:00Z</TimeStamp><MMStatus>Read</MMStatus></ReadReplyReq>`,
          ),
        ),
        'text/xml',
      ),
    );
    assert.equal(read.messageId, 'm1');
    assert.equal(read.mmStatus, 'Read');
    assert.deepEqual(read.sender, { kind: 'number', value: '+13125550100' });
    const other = parseMm7Request(
      Buffer.from(envelope(`<CancelReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version></CancelReq>`)),
      'text/xml',
    );
    assert.deepEqual(other, {
      kind: 'unsupported',
      transactionId: 'tx-1',
      mm7Version: '6.8.0',
      schema: 'REL-6-MM7-1-4',
      element: 'CancelReq',
    });
  });

  it('missing required elements are validation errors (4004)', () => {
    expectFault(() =>
      parseMm7Request(
        Buffer.from(
          envelope(
            `<DeliveryReportReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version><MMStatus>Retrieved</MMStatus></DeliveryReportReq>`,
          ),
        ),
        'text/xml',
      ),
    );
    expectFault(() =>
      parseMm7Request(
        Buffer.from(
          envelope(`<DeliverReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version></DeliverReq>`, { tid: '' }),
        ),
        'text/xml',
      ),
    );
  });
});

describe('MM7 DeliverReq content', () => {
  const deliverXml = (href: string) =>
    envelope(
      `<DeliverReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version>
       <Sender><Number>3125550100</Number></Sender>
       <Recipients><To><Number>+13125550001</Number><Number>13125550102/TYPE=PLMN</Number></To>
       <Cc><Number>+13125550103</Number></Cc><Bcc><RFC2822Address>x@example.com</RFC2822Address></Bcc></Recipients>
       <Subject>Hi &lt;all&gt;</Subject><Content href="${href}"/></DeliverReq>`,
    );

  it('To/Cc/Bcc, SMIL first, href "cid: x" with a space, Content-ID without <>, SOAP not first but named by start, LF', () => {
    const image = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d,
    ]);
    const inner = multipart(
      'inner',
      [
        {
          headers: ['Content-Type: application/smil', 'Content-ID: <smil>'],
          body: '<smil><body><par><img src="cid:img"/><text src="cid:txt"/></par></body></smil>',
        },
        {
          headers: [
            'Content-Type: text/plain; charset=iso-8859-1',
            'Content-ID: txt',
            'Content-Transfer-Encoding: quoted-printable',
          ],
          body: 'caf=E9 =\nau lait',
        },
        {
          headers: [
            'Content-Type: image/png',
            'Content-ID: <img>',
            'Content-Transfer-Encoding: binary',
            'Content-Location: pic.png',
          ],
          body: image,
        },
        {
          headers: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'],
          body: 'ünïcode',
        },
      ],
      '\n',
    );
    const body = multipart(
      'outer',
      [
        {
          headers: [
            'Content-Type: multipart/related; boundary="inner"; type="application/smil"',
            'Content-ID: content-1',
          ],
          body: inner,
        },
        {
          headers: ['Content-Type: text/xml; charset=utf-8', 'Content-ID: <soap-start>'],
          body: deliverXml('cid: content-1'),
        },
      ],
      '\n',
    );
    const req = as(
      'DeliverReq',
      parseMm7Request(body, 'multipart/related; boundary=outer; type="text/xml"; start="<soap-start>"'),
    );
    assert.deepEqual(req.sender, { kind: 'number', value: '3125550100' });
    assert.deepEqual(
      req.to.map((a) => a.value),
      ['+13125550001', '13125550102'],
    );
    assert.deepEqual(req.cc, [{ kind: 'number', value: '+13125550103' }]);
    assert.deepEqual(req.bcc, [{ kind: 'email', value: 'x@example.com' }]);
    assert.equal(req.subject, 'Hi <all>');
    assert.deepEqual(
      req.parts.map((p) => [p.contentType, p.contentId]),
      [
        ['application/smil', 'smil'],
        ['text/plain', 'txt'],
        ['image/png', 'img'],
        ['text/plain', undefined],
      ],
    );
    assert.deepEqual(req.parts[2]!.bytes, image);
    assert.equal(req.parts[2]!.contentLocation, 'pic.png');
    assert.equal(req.text, 'café au lait\nünïcode');
  });

  it('base64 with CRLF and the same message with LF read the same', () => {
    const bytes = Buffer.alloc(3000, 7);
    const make = (eol: string) =>
      multipart(
        'B',
        [
          { headers: ['Content-Type: text/xml'], body: deliverXml('cid:c') },
          {
            headers: ['Content-Type: image/jpeg', 'Content-ID: <c>', 'Content-Transfer-Encoding: BASE64'],
            body: bytes.toString('base64').replace(/.{76}/g, `$&${eol}`),
          },
        ],
        eol,
      );
    for (const eol of ['\r\n', '\n']) {
      const req = as('DeliverReq', parseMm7Request(make(eol), 'multipart/related; boundary=B'));
      assert.deepEqual(
        req.parts.map((p) => p.bytes),
        [bytes],
      );
    }
  });

  it('a 6 MB binary part comes back byte for byte', () => {
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const body = multipart('BIG', [
      { headers: ['Content-Type: text/xml'], body: deliverXml('cid:v') },
      {
        headers: ['Content-Type: video/mp4', 'Content-ID: <v>', 'Content-Transfer-Encoding: binary'],
        body: big,
      },
    ]);
    const req = as('DeliverReq', parseMm7Request(body, 'multipart/related; boundary=BIG'));
    assert.equal(req.parts.length, 1);
    assert.ok(req.parts[0]!.bytes.equals(big));
  });
});

describe('MM7 Content-Type mistakes', () => {
  it('a multipart body sent as text/xml, or without Content-Type, is read by its first boundary line', () => {
    for (const contentType of [undefined, 'text/xml', 'multipart/related; type="text/xml"']) {
      const req = as('DeliverReq', parseMm7Request(sample('deliver-req1.txt'), contentType));
      assert.equal(req.text, 'Los Angeles, Calif, USA ', String(contentType));
    }
  });

  it('SOAP alone declared as multipart/related without a boundary (as some MMSCs post reports)', () => {
    const xml = envelope(
      `<DeliveryReportReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version><MessageID>1</MessageID><Recipient><Number>16175550123</Number></Recipient><MMStatus>Retrieved</MMStatus></DeliveryReportReq>`,
    );
    as('DeliveryReportReq', parseMm7Request(Buffer.from(xml), 'multipart/related; type="text/xml";'));
  });
});

describe('MM7 hostile bodies', () => {
  const soap = envelope(
    `<DeliverReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version><Content href="cid:c"/></DeliverReq>`,
  );

  it('billion laughs: refused at once, nothing expanded', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
${envelope(`<DeliveryReportReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version><MessageID>&lol9;</MessageID><Recipient><Number>1</Number></Recipient><MMStatus>Retrieved</MMStatus></DeliveryReportReq>`).replace(/^<\?xml[^>]*>/, '')}`;
    const started = process.hrtime.bigint();
    const fault = expectFault(() => parseMm7Request(Buffer.from(lol), 'text/xml'));
    assert.match(fault.message, /document type declaration/i);
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
  });

  it('external entity (XXE) refused; an undeclared entity reference stays text', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${soap.replace(/^<\?xml[^>]*>/, '')}`;
    expectFault(() => parseMm7Request(Buffer.from(xxe), 'text/xml'));
    const req = parseMm7Request(
      Buffer.from(
        envelope(
          `<DeliveryReportReq xmlns="${NS6}"><MM7Version>6.8.0</MM7Version><MessageID>a&amp;b&#65;</MessageID><Recipient><Number>1</Number></Recipient><MMStatus>Retrieved</MMStatus><StatusText>&unknown;</StatusText></DeliveryReportReq>`,
        ),
      ),
      'text/xml',
    );
    const report = as('DeliveryReportReq', req);
    assert.equal(report.messageId, 'a&bA');
    assert.equal(report.statusText, '&unknown;');
  });

  it('truncated multipart, wrong boundary, garbage, malformed XML: 4004 faults, never another error', () => {
    const good = multipart('B', [
      { headers: ['Content-Type: text/xml'], body: soap },
      {
        headers: ['Content-Type: image/jpeg', 'Content-ID: <c>', 'Content-Transfer-Encoding: base64'],
        body: 'AAAA',
      },
    ]);
    as('DeliverReq', parseMm7Request(good, 'multipart/related; boundary=B'));
    const truncated = good.subarray(0, good.length - 20);
    assert.match(
      expectFault(() => parseMm7Request(truncated, 'multipart/related; boundary=B')).message,
      /truncated/,
    );
    assert.match(
      expectFault(() => parseMm7Request(good, 'multipart/related; boundary=C')).message,
      /boundary not found/,
    );
    // No boundary declared: the first line gives it (see 'Content-Type mistakes').
    as('DeliverReq', parseMm7Request(good, 'multipart/related'));
    expectFault(() => parseMm7Request(Buffer.from('\x00\x01garbage'), 'text/xml'));
    expectFault(() => parseMm7Request(Buffer.from(''), undefined));
    expectFault(() => parseMm7Request(Buffer.from('<env:Envelope><unclosed>'), 'text/xml'));
    expectFault(() => parseMm7Request(Buffer.from('<a/>'), 'text/xml'));
    const badBase64 = multipart('B', [
      { headers: ['Content-Type: text/xml'], body: soap },
      {
        headers: ['Content-Type: image/jpeg', 'Content-ID: <c>', 'Content-Transfer-Encoding: base64'],
        body: '***not base64***',
      },
    ]);
    expectFault(() => parseMm7Request(badBase64, 'multipart/related; boundary=B'));
  });

  it('multiparts nested without end are refused, not recursed forever', () => {
    let inner: Buffer = Buffer.from('x');
    for (let depth = 0; depth < 20; depth++) {
      inner = multipart(`d${depth}`, [
        { headers: [`Content-Type: multipart/mixed; boundary=d${depth - 1}`], body: inner },
      ]);
    }
    const body = multipart('B', [
      { headers: ['Content-Type: text/xml'], body: soap },
      { headers: ['Content-Type: multipart/mixed; boundary=d19', 'Content-ID: <c>'], body: inner },
    ]);
    expectFault(() => parseMm7Request(body, 'multipart/related; boundary=B'));
  });
});

describe('MMStatus mapping', () => {
  it('maps final statuses with Telnyx codes and leaves Deferred and unknown ones open', () => {
    assert.deepEqual(mapMmStatus('Retrieved'), { status: 'delivered' });
    assert.deepEqual(mapMmStatus('forwarded'), { status: 'delivered' });
    assert.equal(mapMmStatus('Rejected')?.error?.code, '40004');
    assert.equal(mapMmStatus('Unrecognised')?.error?.code, '40012');
    assert.equal(mapMmStatus('Expired')?.error?.code, '40005');
    assert.equal(mapMmStatus('Expired')?.status, 'delivery_failed');
    assert.deepEqual(mapMmStatus('Indeterminate'), { status: 'delivery_unconfirmed' });
    assert.equal(mapMmStatus('Deferred'), null);
    assert.equal(mapMmStatus('Whatever'), null);
  });
});
