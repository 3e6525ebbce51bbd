import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';

function tempDb() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gc-'));
  return path.join(dir, 'g.sqlite');
}

test('concurrent transactions share commits; a failing one rolls back only its own writes', async () => {
  const file = tempDb();
  const db = openSqlite(file);
  await db.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const outcomes = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) =>
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [i, `a${i}`]);
        await tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [1000 + i, `b${i}`]);
        if (i % 7 === 3) throw new Error(`fail ${i}`);
        return i;
      }),
    ),
  );
  const failed = outcomes.map((o, i) => (o.status === 'rejected' ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(failed, [3, 10, 17, 24, 31, 38, 45]);
  for (const [i, o] of outcomes.entries()) if (o.status === 'fulfilled') assert.equal(o.value, i);
  await db.close();

  // Read back through a separate connection: only what was acknowledged is there, in full.
  const check = new Database(file, { readonly: true });
  const ids = (check.prepare('SELECT id FROM t ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
  const expected = Array.from({ length: 50 }, (_, i) => i).filter((i) => !failed.includes(i));
  assert.deepEqual(ids, [...expected, ...expected.map((i) => 1000 + i)]);
  check.close();
});

test('a transaction is acknowledged only once committed: a reader on another connection sees it then', async () => {
  const file = tempDb();
  const db = openSqlite(file);
  await db.run('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  const reader = new Database(file, { readonly: true });
  const seenAtAck = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      db
        .transaction((tx) => tx.run('INSERT INTO t (id) VALUES (?)', [i]))
        .then(() => (reader.prepare('SELECT COUNT(*) AS n FROM t WHERE id = ?').get(i) as { n: number }).n),
    ),
  );
  assert.deepEqual(seenAtAck, Array(20).fill(1));
  reader.close();
  await db.close();
});
