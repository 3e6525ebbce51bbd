import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';

test('a bare address in OUTBOUND_ALLOW_CIDRS is one host; a bad entry is quoted', () => {
  assert.deepEqual(loadConfig({ OUTBOUND_ALLOW_CIDRS: '127.0.0.1, ::1,10.0.0.0/8' }).outboundAllowCidrs, [
    '127.0.0.1/32',
    '::1/128',
    '10.0.0.0/8',
  ]);
  assert.throws(() => loadConfig({ OUTBOUND_ALLOW_CIDRS: 'nope' }), /OUTBOUND_ALLOW_CIDRS="nope"/);
});

test('a bad number quotes what was typed instead of NaN', () => {
  assert.throws(
    () => loadConfig({ PORT: 'abc' }),
    (err: Error) => {
      assert.match(err.message, /PORT="abc": expected a number/);
      assert.doesNotMatch(err.message, /NaN/);
      return true;
    },
  );
});

test('sandbox follows BOOTSTRAP unless SANDBOX says otherwise', () => {
  assert.equal(loadConfig({}).sandbox, true);
  assert.equal(loadConfig({ BOOTSTRAP: 'false' }).sandbox, false);
  assert.equal(loadConfig({ SANDBOX: 'false' }).sandbox, false);
  assert.equal(loadConfig({ BOOTSTRAP: 'false', SANDBOX: 'true' }).sandbox, true);
});
