import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createNumberLookup, parseE164 } from '../../src/numbers/lookup.ts';
import { createPrefixTable } from '../../src/numbers/prefix-table.ts';

const table = createPrefixTable([
  { prefix: '+1312555', carrier: 'Demo Telecom', line_type: 'Wireline' },
  { prefix: '+131255501', carrier: 'Demo Wireless', line_type: 'Wireless' },
]);

describe('number lookup', () => {
  it('answers from the table first, longest prefix winning', () => {
    const { lookup } = createNumberLookup({ table });
    assert.deepEqual(lookup('+13125550100'), {
      carrier: 'Demo Wireless',
      line_type: 'Wireless',
      country_code: 'US',
    });
    assert.deepEqual(lookup('+13125550200'), {
      carrier: 'Demo Telecom',
      line_type: 'Wireline',
      country_code: 'US',
    });
  });

  it('falls back to libphonenumber for a UK mobile', () => {
    const { lookup } = createNumberLookup({ table });
    assert.deepEqual(lookup('+447400123456'), { carrier: null, line_type: 'Wireless', country_code: 'GB' });
  });

  it('falls back to libphonenumber for a fixed line (UK landline)', () => {
    const { lookup } = createNumberLookup();
    assert.deepEqual(lookup('+442079460000'), { carrier: null, line_type: 'Wireline', country_code: 'GB' });
  });

  it('reports a US geographic number (FIXED_LINE_OR_MOBILE) as Wireless without a table', () => {
    const { lookup } = createNumberLookup();
    assert.deepEqual(lookup('+13122300000'), { carrier: null, line_type: 'Wireless', country_code: 'US' });
  });

  it('gives no line type for other number types and nulls for garbage', () => {
    const { lookup } = createNumberLookup();
    assert.deepEqual(lookup('+18005550100'), { carrier: null, line_type: null, country_code: 'US' });
    assert.deepEqual(lookup('not a number'), { carrier: null, line_type: null, country_code: null });
  });

  it('returns copies, so a caller mutating a result does not poison the cache', () => {
    const { lookup } = createNumberLookup({ table });
    const first = lookup('+13125550100');
    first.carrier = 'mutated';
    assert.equal(lookup('+13125550100').carrier, 'Demo Wireless');
  });

  it('keeps the cache bounded and evicts the least recently used number', () => {
    let matches = 0;
    const counting = {
      size: 1,
      match: (e164: string) => {
        matches++;
        return table.match(e164);
      },
    };
    const { lookup } = createNumberLookup({ table: counting, cacheSize: 2 });
    lookup('+13125550100');
    lookup('+13125550101');
    lookup('+13125550100'); // hit: now the most recent
    assert.equal(matches, 2);
    lookup('+13125550102'); // evicts …0101
    lookup('+13125550100'); // still cached
    assert.equal(matches, 3);
    lookup('+13125550101'); // was evicted
    assert.equal(matches, 4);
  });
});

describe('parseE164', () => {
  const accepted: Array<[string, string | null]> = [
    ['+13125550100', 'US'],
    ['+13125550199', 'US'],
    ['+19995550100', null], // possible (right length for +1) though NPA 999 is unassigned
    ['+447400123456', 'GB'],
    ['+4915123456789', 'DE'],
    ['+33612345678', 'FR'],
    ['+80012345678', null], // non-geographic freephone
  ];
  for (const [text, country] of accepted) {
    it(`accepts ${text}`, () => {
      assert.deepEqual(parseE164(text), { e164: text, country });
    });
  }

  const rejected = [
    '',
    '+',
    '13125550100', // no +
    '+1 3125550100', // space
    '+1-312-555-0100',
    '+13125550100x',
    '+1312555010', // too short for +1
    '+131255501000', // too long for +1
    '+1234567', // 7 digits
    `+1${'2'.repeat(15)}`, // 16 digits
    '+0123456789', // leading 0
    '+99912345678', // unassigned country calling code
    '+4402079460000', // national prefix kept: not canonical
    '+١٣١٢٥٥٥٠١٠٠', // non-ASCII digits
    ' +13125550100',
  ];
  for (const text of rejected) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseE164(text), null);
    });
  }

  it('never throws on random input and accepts only its own canonical shape', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\+?\d{0,18}$/)), (text) => {
        const parsed = parseE164(text);
        if (parsed) {
          assert.equal(parsed.e164, text);
          assert.match(text, /^\+[1-9]\d{7,14}$/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
