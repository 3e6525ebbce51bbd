import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { SqlExecutor } from '../../src/store/sql/driver.ts';
import { createGroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { Mutex } from '../../src/store/sqlite/mutex.ts';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';
import { waitFor } from '../support/wait-for.ts';

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

// The savepoint machinery failing: every caller of the batch is answered, nothing of the batch is
// committed, no rejection goes unhandled, and the next transaction works.

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** A real database whose statement `sql` throws on its `nth` run (1-based), as a disk error would. */
function failingOn(db: Database.Database, sql: string, nth: number): Database.Database {
  let runs = 0;
  return new Proxy(db, {
    get(target, prop) {
      if (prop !== 'prepare') return Reflect.get(target, prop, target);
      return (text: string) => {
        const stmt = target.prepare(text);
        if (text !== sql) return stmt;
        return {
          run: () => {
            runs += 1;
            if (runs === nth) throw new Error(`injected failure of ${sql}`);
            return stmt.run();
          },
        };
      };
    },
  });
}

async function settleAll(promises: Array<Promise<unknown>>) {
  let settled = 0;
  for (const p of promises)
    p.then(
      () => settled++,
      () => settled++,
    );
  await waitFor(() => settled === promises.length, {
    timeoutMs: 5_000,
    description: 'every caller answered',
  });
  // Unhandled rejections are reported after the microtask queue drains: let one macrotask pass.
  await new Promise((resolve) => setImmediate(resolve));
  return Promise.allSettled(promises);
}

function unitsOf(
  tx: (fn: (ex: SqlExecutor) => Promise<unknown>) => Promise<unknown>,
  sabotage: number,
  extra?: (ex: SqlExecutor) => Promise<void>,
) {
  return Array.from({ length: 5 }, (_, i) =>
    tx(async (ex) => {
      await ex.run('INSERT INTO t (id) VALUES (?)', [i]);
      if (i === sabotage && extra) await extra(ex);
      return i;
    }),
  );
}

for (const sql of ['SAVEPOINT unit', 'ROLLBACK TO unit', 'RELEASE unit']) {
  test(`a throwing ${sql} rolls back the batch and answers every caller`, async () => {
    unhandled.length = 0;
    const real = new Database(tempDb());
    real.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    // ROLLBACK TO runs only for a failing unit: unit 2 fails, and the first ROLLBACK TO throws.
    const nth = sql === 'ROLLBACK TO unit' ? 1 : 3;
    const db = failingOn(real, sql, nth);
    const inner: SqlExecutor = {
      all: async (q, p = []) => real.prepare(q).all(...p) as never,
      get: async (q, p = []) => real.prepare(q).get(...p) as never,
      run: async (q, p = []) => real.prepare(q).run(...p).changes,
    };
    const transaction = createGroupCommitter(db, new Mutex(), inner);
    const unitError = new Error('unit 2 fails');
    const outcomes = await settleAll(
      unitsOf(transaction, 2, async () => {
        throw unitError;
      }),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      Array(5).fill('rejected'),
    );
    // Unit 2 never ran when its SAVEPOINT failed; otherwise it keeps its own error.
    if (sql === 'SAVEPOINT unit')
      assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /injected/);
    else assert.equal((outcomes[2] as PromiseRejectedResult).reason, unitError);
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /injected failure/);
    assert.deepEqual(unhandled, []);
    assert.equal(real.inTransaction, false);
    assert.equal((real.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 0);
    // The committer is still usable.
    assert.equal(await transaction(async (ex) => ex.run('INSERT INTO t (id) VALUES (?)', [99])), 1);
    assert.equal((real.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 1);
    real.close();
  });
}

test('a unit that releases its own savepoint breaks the batch without hanging its other callers', async () => {
  unhandled.length = 0;
  const file = tempDb();
  const db = openSqlite(file);
  await db.run('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  // RELEASE after the unit: "no such savepoint".
  const released = await settleAll(
    unitsOf(db.transaction, 2, async (ex) => void (await ex.run('RELEASE unit'))),
  );
  assert.deepEqual(
    released.map((o) => o.status),
    Array(5).fill('rejected'),
  );
  // ROLLBACK TO after a failing unit: "no such savepoint" too.
  const failing = await settleAll(
    unitsOf(db.transaction, 1, async (ex) => {
      await ex.run('RELEASE unit');
      throw new Error('unit 1 fails');
    }),
  );
  assert.deepEqual(
    failing.map((o) => o.status),
    Array(5).fill('rejected'),
  );
  assert.equal(String((failing[1] as PromiseRejectedResult).reason), 'Error: unit 1 fails');
  assert.deepEqual(unhandled, []);
  assert.equal(await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM t').then((r) => r?.n), 0);
  await db.transaction((tx) => tx.run('INSERT INTO t (id) VALUES (7)'));
  assert.equal(await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM t').then((r) => r?.n), 1);
  await db.close();
});
