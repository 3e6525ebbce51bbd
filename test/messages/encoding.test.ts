import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { analyzeText, countSegments, MAX_PARTS } from '../../src/messages/encoding.ts';

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

describe('analyzeText', () => {
  it('treats empty and null text as one GSM-7 part of no characters', () => {
    assert.deepEqual(analyzeText(null), { encoding: 'GSM-7', parts: 1, num_chars: 0 });
    assert.deepEqual(analyzeText(''), { encoding: 'GSM-7', parts: 1, num_chars: 0 });
  });

  it('knows the whole GSM 03.38 alphabet and extension table', () => {
    assert.equal(Array.from(GSM_BASIC).length, 127); // 128 codes minus the escape
    for (const c of GSM_BASIC + GSM_EXTENSION)
      assert.equal(analyzeText(c).encoding, 'GSM-7', JSON.stringify(c));
  });

  it('switches to UCS-2 for anything outside the GSM alphabet', () => {
    for (const c of ['ç', 'á', 'ж', '中', '😀', '\t', '\u001b', '`', 'ß\u0301']) {
      assert.equal(analyzeText(`hello ${c}`).encoding, 'UCS-2', JSON.stringify(c));
    }
  });

  it('splits GSM-7 at 160 septets single and 153 per concatenated part', () => {
    assert.deepEqual(analyzeText('a'.repeat(160)), { encoding: 'GSM-7', parts: 1, num_chars: 160 });
    assert.deepEqual(analyzeText('a'.repeat(161)), { encoding: 'GSM-7', parts: 2, num_chars: 161 });
    assert.equal(analyzeText('a'.repeat(306)).parts, 2);
    assert.equal(analyzeText('a'.repeat(307)).parts, 3);
  });

  it('counts extension characters as two septets and never splits an escape pair', () => {
    assert.deepEqual(analyzeText('€'.repeat(80)), { encoding: 'GSM-7', parts: 1, num_chars: 80 });
    assert.equal(analyzeText(`${'€'.repeat(80)}a`).parts, 2);
    // 152 septets then a 2-septet char: it cannot use the last septet, so it opens part 2.
    assert.equal(analyzeText(`${'a'.repeat(152)}€${'a'.repeat(152)}`).parts, 3);
    assert.equal(analyzeText(`${'a'.repeat(151)}€${'a'.repeat(153)}`).parts, 2);
  });

  it('splits UCS-2 at 70 code units single and 67 per part', () => {
    assert.deepEqual(analyzeText('ж'.repeat(70)), { encoding: 'UCS-2', parts: 1, num_chars: 70 });
    assert.equal(analyzeText('ж'.repeat(71)).parts, 2);
    assert.equal(analyzeText('ж'.repeat(134)).parts, 2);
    assert.equal(analyzeText('ж'.repeat(135)).parts, 3);
  });

  it('counts surrogate pairs as two code units, one character, never split across parts', () => {
    assert.deepEqual(analyzeText('😀'.repeat(35)), { encoding: 'UCS-2', parts: 1, num_chars: 35 });
    assert.deepEqual(analyzeText('😀'.repeat(36)), { encoding: 'UCS-2', parts: 2, num_chars: 36 });
    // 66 units then a pair: the pair moves to part 2 whole.
    assert.equal(analyzeText(`${'ж'.repeat(66)}😀${'ж'.repeat(65)}`).parts, 2);
    assert.equal(analyzeText(`${'ж'.repeat(66)}😀${'ж'.repeat(66)}`).parts, 3);
  });

  it('caps parts at MAX_PARTS while countSegments does not', () => {
    const long = 'a'.repeat(153 * 12);
    assert.equal(MAX_PARTS, 10);
    assert.equal(analyzeText(long).parts, 10);
    assert.equal(countSegments(long), 12);
  });
});

describe('analyzeText properties', () => {
  const gsmChar = fc.constantFrom(...Array.from(GSM_BASIC + GSM_EXTENSION));
  const anyText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.string({ maxLength: 400 }));

  it('never throws and stays within its ranges', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const { parts, num_chars } = analyzeText(text);
        assert.ok(parts >= 1 && parts <= MAX_PARTS);
        assert.equal(num_chars, Array.from(text).length);
      }),
    );
  });

  it('never needs fewer parts when text is appended', () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        assert.ok(countSegments(a + b) >= countSegments(a));
      }),
    );
  });

  it('encodes strings of GSM characters as GSM-7 with septet-based parts', () => {
    fc.assert(
      fc.property(fc.array(gsmChar, { maxLength: 1000 }), (chars) => {
        const text = chars.join('');
        const septets = chars.reduce((sum, c) => sum + (GSM_EXTENSION.includes(c) ? 2 : 1), 0);
        const result = analyzeText(text);
        assert.equal(result.encoding, 'GSM-7');
        assert.equal(result.num_chars, chars.length);
        const segments = countSegments(text);
        if (septets <= 160) assert.equal(segments, 1);
        // Escape pairs kept whole waste at most one septet per part.
        else assert.ok(segments >= Math.ceil(septets / 153) && segments <= Math.ceil(septets / 152));
      }),
    );
  });
});
