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
