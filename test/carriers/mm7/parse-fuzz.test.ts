import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Mm7Fault, parseMm7Request } from '../../../src/carriers/mm7/index.ts';
import { deliverReq } from '../../../src/mmsc/mm7-messages.ts';
import { SPEC_EXAMPLE_CONTENT_TYPE, sample } from './samples.ts';

/** Parsing either succeeds or throws an Mm7Fault: anything else would be a 500 at the receiver. */
function parsesOrFaults(body: Buffer, contentType: string | undefined): void {
  try {
    parseMm7Request(body, contentType);
  } catch (err) {
    if (!(err instanceof Mm7Fault)) throw err;
    assert.ok(err.statusCode >= 2000 && err.statusCode < 5000);
  }
}

describe('MM7 parser under mutation', () => {
  const base = sample('deliver-req2.txt');

  it('a sample with bytes cut, flipped or inserted anywhere parses or faults, never throws anything else', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.nat({ max: base.length - 1 }),
            op: fc.constantFrom('cut', 'flip', 'insert'),
            bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (edits) => {
          let body = Buffer.from(base);
          for (const { at, op, bytes } of edits) {
            const i = Math.min(at, body.length);
            if (op === 'cut') body = Buffer.concat([body.subarray(0, i), body.subarray(i + bytes.length)]);
            else if (op === 'flip')
              body = Buffer.concat([
                body.subarray(0, i),
                Buffer.from(bytes),
                body.subarray(i + bytes.length),
              ]);
            else body = Buffer.concat([body.subarray(0, i), Buffer.from(bytes), body.subarray(i)]);
          }
          parsesOrFaults(body, SPEC_EXAMPLE_CONTENT_TYPE);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('arbitrary bodies and content types parse or fault', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
        (bytes, contentType) => parsesOrFaults(Buffer.from(bytes), contentType),
      ),
      { numRuns: 400 },
    );
  });

  it('any text and media survive a DeliverReq byte for byte', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 3 }),
        (text, media) => {
          const { contentType, body } = deliverReq('fuzz', {
            from: '+13125550100',
            to: ['+13125550001'],
            text,
            media: media.map((m) => ({ contentType: 'application/octet-stream', bytes: Buffer.from(m) })),
          });
          const req = parseMm7Request(body, contentType);
          assert.ok(req.kind === 'DeliverReq');
          assert.equal(req.text, text);
          const binary = req.parts.filter((p) => p.contentType === 'application/octet-stream');
          assert.deepEqual(
            binary.map((p) => p.bytes.toString('hex')),
            media.map((m) => Buffer.from(m).toString('hex')),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
