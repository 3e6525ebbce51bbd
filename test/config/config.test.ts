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

test('a number out of range says its bound; a fraction where a whole number is wanted says so', () => {
  assert.throws(() => loadConfig({ WORKER_POLL_MS: '2' }), /WORKER_POLL_MS="2": .*>=\s*5/);
  assert.throws(() => loadConfig({ PORT: '80.5' }), /PORT="80.5": expected a whole number/);
  assert.equal(loadConfig({ WORKER_POLL_MS: '5' }).worker.pollMs, 5);
});

test('sandbox follows BOOTSTRAP unless SANDBOX says otherwise', () => {
  assert.equal(loadConfig({}).sandbox, true);
  assert.equal(loadConfig({ BOOTSTRAP: 'false' }).sandbox, false);
  assert.equal(loadConfig({ SANDBOX: 'false' }).sandbox, false);
  assert.equal(loadConfig({ BOOTSTRAP: 'false', SANDBOX: 'true' }).sandbox, true);
});
