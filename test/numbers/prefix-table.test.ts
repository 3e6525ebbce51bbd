import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createPrefixTable,
  DEMO_PREFIX_TABLE_URL,
  LINE_TYPES,
  loadPrefixTable,
} from '../../src/numbers/prefix-table.ts';

const dir = mkdtempSync(join(tmpdir(), 'prefix-table-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeTable(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('prefix table', () => {
  const table = createPrefixTable([
    { prefix: '+1', carrier: 'Country', line_type: 'Wireline' },
    { prefix: '+1312555', carrier: 'Exchange', line_type: 'VoIP' },
    { prefix: '+131255501', carrier: 'Block', line_type: 'Wireless' },
  ]);

  it('picks the longest matching prefix', () => {
    assert.equal(table.match('+13125550123')?.carrier, 'Block');
    assert.equal(table.match('+13125550200')?.carrier, 'Exchange');
    assert.equal(table.match('+13125560000')?.carrier, 'Country');
    assert.equal(table.match('+447400123456'), undefined);
    assert.equal(table.size, 3);
  });

  it('does not match a number shorter than a prefix or without a +', () => {
    const only = createPrefixTable([{ prefix: '+1312555', carrier: 'Exchange', line_type: 'VoIP' }]);
    assert.equal(only.match('+131255'), undefined);
    assert.equal(only.match('13125550123'), undefined);
  });

  it('loads a valid file', () => {
    const path = writeTable('ok.json', {
      entries: [{ prefix: '+4474', carrier: 'UK Mobile', line_type: 'Wireless' }],
    });
    assert.deepEqual(loadPrefixTable(path).match('+447400123456'), {
      prefix: '+4474',
      carrier: 'UK Mobile',
      line_type: 'Wireless',
    });
  });

  it('ships a demo table covering the simulator numbers as Wireless', () => {
    const demo = loadPrefixTable(DEMO_PREFIX_TABLE_URL);
    for (const number of ['+13125550100', '+12025550106', '+12065550199', '+14155550150']) {
      assert.equal(demo.match(number)?.line_type, 'Wireless', number);
    }
    for (const number of ['+12065550200', '+13122300000', '+18445550001']) {
      assert.notEqual(demo.match(number), undefined, number);
    }
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{ entries: [', /bad-0\.json: invalid JSON/],
    ['no entries array', { prefixes: [] }, /"entries" array/],
    ['entry not an object', { entries: ['+1'] }, /entries\[0\]: expected an object/],
    [
      'prefix without +',
      { entries: [{ prefix: '1312', carrier: 'X', line_type: 'Wireless' }] },
      /entries\[0\]: prefix "1312"/,
    ],
    [
      'prefix with letters',
      {
        entries: [
          { prefix: '+1', carrier: 'X', line_type: 'Wireless' },
          { prefix: '+1a', carrier: 'X', line_type: 'Wireless' },
        ],
      },
      /entries\[1\]: prefix "\+1a"/,
    ],
    [
      'prefix too long',
      { entries: [{ prefix: `+${'1'.repeat(16)}`, carrier: 'X', line_type: 'Wireless' }] },
      /entries\[0\]: prefix/,
    ],
    [
      'empty carrier',
      { entries: [{ prefix: '+1', carrier: ' ', line_type: 'Wireless' }] },
      /entries\[0\] \(\+1\): carrier/,
    ],
    [
      'unknown line type',
      { entries: [{ prefix: '+1', carrier: 'X', line_type: 'Mobile' }] },
      /entries\[0\] \(\+1\): line_type "Mobile" must be one of Wireless/,
    ],
    [
      'duplicate prefix',
      {
        entries: [
          { prefix: '+44', carrier: 'A', line_type: 'Wireless' },
          { prefix: '+44', carrier: 'B', line_type: 'Wireline' },
        ],
      },
      /duplicate prefix \+44/,
    ],
  ];
  for (const [index, [name, content, message]] of bad.entries()) {
    it(`rejects a file with ${name}`, () => {
      const path = writeTable(`bad-${index}.json`, content);
      assert.throws(
        () => loadPrefixTable(path),
        (error: Error) => {
          assert.match(error.message, message);
          assert.ok(error.message.includes(path), 'names the file');
          return true;
        },
      );
    });
  }

  it('rejects a missing file with a clear error', () => {
    assert.throws(() => loadPrefixTable(join(dir, 'missing.json')), /missing\.json: cannot read file/);
  });

  it('accepts every Telnyx line type', () => {
    const entries = LINE_TYPES.map((line_type, i) => ({ prefix: `+9${i}`, carrier: 'X', line_type }));
    const path = writeTable('all-types.json', { entries });
    const loaded = loadPrefixTable(path);
    LINE_TYPES.forEach((line_type, i) => {
      assert.equal(loaded.match(`+9${i}00000000`)?.line_type, line_type);
    });
  });
});
