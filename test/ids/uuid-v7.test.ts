import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidV7 } from '../../src/ids/uuid-v7.ts';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids are RFC 9562 version 7 UUIDs carrying the given millisecond', () => {
  const ms = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
  const id = uuidV7(ms);
  assert.match(id, FORMAT);
  assert.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16), ms);
});

test('ids sort in creation order, within one millisecond and across a clock step back', () => {
  const now = Date.now() + 60_000;
  const ids = [
    ...Array.from({ length: 5000 }, () => uuidV7(now)),
    ...Array.from({ length: 10 }, () => uuidV7(now - 1000)),
    ...Array.from({ length: 10 }, () => uuidV7(now + 1)),
  ];
  for (const id of ids) assert.match(id, FORMAT);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('a clock value that is no time (NaN, negative) falls back to the real clock', () => {
  const before = Date.now();
  for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
    const id = uuidV7(bad);
    assert.match(id, FORMAT);
    const ms = Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    // The generator never goes back in time, and the test above moved it a minute ahead.
    assert.ok(ms >= before && ms <= Date.now() + 120_000, `${bad} gave ${new Date(ms).toISOString()}`);
  }
});
