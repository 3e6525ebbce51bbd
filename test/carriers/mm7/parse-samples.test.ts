import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import {
  Mm7Fault,
  type Mm7Inbound,
  mm7FaultResponse,
  parseMm7Request,
} from '../../../src/carriers/mm7/index.ts';
import { readMm7Answer } from '../../../src/carriers/mm7/responses.ts';
import { classifyMm7Status } from '../../../src/carriers/mm7/status-map.ts';
import { SPEC_EXAMPLE_CONTENT_TYPE, sample, samplePost } from './samples.ts';

function deliver(result: Mm7Inbound): Extract<Mm7Inbound, { kind: 'DeliverReq' }> {
  assert.equal(result.kind, 'DeliverReq', JSON.stringify(result));
  return result as Extract<Mm7Inbound, { kind: 'DeliverReq' }>;
}

const SPEC_HEADER = {
  transactionId: 'vas00324-dlvr',
  mm7Version: '6.7.0',
  schema: 'REL-6-MM7-1-4',
  linkedId: 'wthr8391',
  sender: { kind: 'email', value: '97254265781@OMMS.com' },
  subject: 'Weather Forecast',
};

describe('MM7 samples parse', () => {
  it('deliver-req-post.txt: the full HTTP request, Content-Type with start, href naming no part', () => {
    const { contentType, body, headers } = samplePost();
    assert.equal(headers.soapaction, '""');
    const req = deliver(parseMm7Request(body, contentType));
    const { date, parts, text, to, cc, bcc, ...header } = req;
    assert.deepEqual(header, { kind: 'DeliverReq', ...SPEC_HEADER });
    assert.equal(date?.toISOString(), '2002-04-15T19:35:21.000Z');
    assert.deepEqual([to, cc, bcc], [[], [], []]);
    assert.equal(text, 'Los Angeles, Calif, USA ');
    // The example's href says ...200102... while the part is ...2000102...: every non-SOAP part is content.
    assert.deepEqual(
      parts.map((p) => [p.contentType, p.contentId, p.bytes.toString('utf8')]),
      [['text/plain', 'forecast-location2000102-86453', 'Los Angeles, Calif, USA ']],
    );
  });

  it('deliver-req1.txt: whitespace around TransactionID, text part found by cid', () => {
    const req = deliver(parseMm7Request(sample('deliver-req1.txt'), SPEC_EXAMPLE_CONTENT_TYPE));
    assert.equal(req.transactionId, 'vas00324-dlvr');
    assert.equal(req.subject, 'Weather Forecast');
    assert.deepEqual(req.sender, SPEC_HEADER.sender);
    assert.deepEqual(
      req.parts.map((p) => [p.contentType, p.contentId, p.bytes.toString()]),
      [['text/plain', 'forecast-location2000102-86453', 'Los Angeles, Calif, USA ']],
    );
  });

  it('deliver-req2.txt: nested multipart/mixed with a text and a base64 GIF, boundary with spaces', () => {
    const req = deliver(parseMm7Request(sample('deliver-req2.txt'), SPEC_EXAMPLE_CONTENT_TYPE));
    assert.equal(req.parts.length, 2);
    const [text, gif] = req.parts;
    assert.equal(text!.contentType, 'text/plain');
    assert.equal(text!.bytes.toString('ascii'), 'Science news, new Saturn pictures...\n');
    assert.equal(gif!.contentType, 'image/gif');
    assert.equal(gif!.contentId, 'saturn.gif');
    const expected = Buffer.from(
      'R0lGODdhZAAwAOMAAAAAAIGJjGltcDE0OOfWo6Ochbi1n1pmcbGojpKbnP/lpW54fBMTE1RYXEFO',
      'base64',
    );
    assert.deepEqual(gif!.bytes, expected);
    assert.equal(gif!.bytes.subarray(0, 6).toString('ascii'), 'GIF87a');
    assert.equal(req.text, 'Science news, new Saturn pictures...\n');
  });

  it('deliver-req4.txt: 400 KB, prefixed elements, SMIL after the JPEG, Start/Type/Name in odd case', () => {
    const raw = sample('deliver-req4.txt');
    const req = deliver(
      parseMm7Request(
        raw,
        'multipart/related; type="text/xml"; boundary="==MM7-SOAP==96ac8e10-0e3a-4c9f-9b2f-3730f3801bff"',
      ),
    );
    assert.equal(req.transactionId, '0Q296S401H79CPSU13V1K431DRK3G49M');
    assert.equal(req.mm7Version, '6.8.0');
    assert.equal(req.sender, undefined);
    assert.equal(req.subject, undefined);
    assert.deepEqual(
      req.parts.map((p) => [p.contentType, p.contentId, p.filename]),
      [
        ['image/jpeg', 'd342c53a-ae78-4b0f-b3f5-4acc8152f93a', 'flowers_6.jpg'],
        ['application/smil', '580210102', 'pres.smil'],
      ],
    );
    const jpeg = req.parts[0]!.bytes;
    // The JPEG as the sample's base64 lines encode it, independently decoded here.
    const text = raw.toString('latin1');
    const start = text.indexOf('\n\n', text.indexOf('Content-Type: image/jpeg')) + 2;
    const end = text.indexOf('\n--==Multipart==', start);
    const independent = Buffer.from(text.slice(start, end).replace(/\s+/g, ''), 'base64');
    assert.equal(
      createHash('sha256').update(jpeg).digest('hex'),
      createHash('sha256').update(independent).digest('hex'),
    );
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
    const smil = req.parts[1]!.bytes.toString('utf8');
    assert.match(smil, /^<smil>.*<img region="Image" src="flowers_\.jpg"\/>.*<\/smil>\r\n$/s);
    assert.equal(req.text, undefined);
  });

  it('smil-sample.xml and smil-sample2.xml are well-formed SMIL referencing cid: parts', () => {
    const parser = new XMLParser({ ignoreAttributes: false, processEntities: false });
    for (const name of ['smil-sample.xml', 'smil-sample2.xml']) {
      const doc = parser.parse(sample(name).toString('utf8'));
      const srcs = JSON.stringify(doc).match(/cid:[a-z]+/g);
      assert.deepEqual(srcs?.sort(), ['cid:image', 'cid:text'], name);
    }
  });
});

describe('MM7 fault and response samples', () => {
  it('fault.xml: RSErrorRsp 4002 Unsupported version, a permanent failure', () => {
    const answer = readMm7Answer(sample('fault.xml').toString('utf8'));
    assert.deepEqual(answer, {
      kind: 'fault',
      transactionId: '123456',
      statusCode: 4002,
      statusText: 'Unsupported version',
      faultCode: 'Client',
      faultString: 'Client error',
    });
    assert.deepEqual(classifyMm7Status(4002), { retryable: false, code: '40008' });
  });

  it('fault_02.xml: prefixed faultcode, REL-5 default namespace, CRLF; 2002 Address Error → permanent 40012', () => {
    const answer = readMm7Answer(sample('fault_02.xml').toString('utf8'));
    assert.equal(answer.kind, 'fault');
    assert.equal(answer.transactionId, '0_1500103103727');
    assert.equal(answer.statusCode, 2002);
    assert.equal(answer.statusText, 'Address Error');
    assert.equal(answer.kind === 'fault' && answer.faultCode, 'env:Client');
    assert.deepEqual(classifyMm7Status(2002), { retryable: false, code: '40012' });
  });

  it('submit-rsp.xml: 1000 with its MessageID, unknown namespace REL-6-MM7-6-7', () => {
    const answer = readMm7Answer(sample('submit-rsp.xml').toString('utf8'));
    assert.equal(answer.kind, 'response');
    assert.equal(answer.kind === 'response' && answer.element, 'SubmitRsp');
    assert.equal(answer.statusCode, 1000);
    assert.equal(answer.transactionId, 'vas00001-sub');
  });

  it('a fault we write reads back the way the samples read', () => {
    const { httpStatus, body } = mm7FaultResponse(
      new Mm7Fault(4004, 'Validation error: no MessageID'),
      't-1',
      'REL-5-MM7-1-3',
    );
    assert.equal(httpStatus, 500);
    assert.match(body, /REL-5-MM7-1-3/);
    assert.deepEqual(readMm7Answer(body), {
      kind: 'fault',
      transactionId: 't-1',
      statusCode: 4004,
      statusText: 'Validation error: no MessageID',
      faultCode: 'env:Client',
      faultString: 'Client error',
    });
  });
});
