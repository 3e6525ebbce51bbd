import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { toPositional } from '../../src/store/postgres/placeholders.ts';
import { openPostgres, type PostgresDriver } from '../../src/store/postgres/postgres-driver.ts';
import { createTestDatabase, dropTestDatabase } from '../support/databases.ts';

/** Resolves with `promise`, or fails the test after `ms` instead of hanging it. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A callback that counts its calls and lets a test await the next one. */
function probe() {
  let calls = 0;
  let waiters: Array<() => void> = [];
  return {
    fn: () => {
      calls++;
      for (const wake of waiters) wake();
      waiters = [];
    },
    get calls() {
      return calls;
    },
    next: (what: string) => within(5_000, new Promise<void>((resolve) => waiters.push(resolve)), what),
  };
}

test('toPositional numbers placeholders, leaving literals and quoted identifiers alone', () => {
  assert.equal(
    toPositional(`SELECT ?, '?', 'it''s ?', "col?" FROM t WHERE a = ? AND b IN (?, ?)`),
    `SELECT $1, '?', 'it''s ?', "col?" FROM t WHERE a = $2 AND b IN ($3, $4)`,
  );
  assert.equal(toPositional('SELECT 1'), 'SELECT 1');
});

describe('postgres driver', () => {
  let url: string;
  let db: PostgresDriver;

  before(async () => {
    url = await createTestDatabase();
    db = await openPostgres(url, { poolSize: 2 });
    await db.run('CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)');
  });
  after(async () => {
    await db?.close();
    if (url) await dropTestDatabase(url);
  });

  test('BIGINT comes back as a number from this driver only', async () => {
    const row = await db.get<{ n: unknown; c: unknown }>('SELECT ?::bigint AS n, COUNT(*) AS c FROM t', [
      Number.MAX_SAFE_INTEGER,
    ]);
    assert.deepEqual(row, { n: Number.MAX_SAFE_INTEGER, c: 0 });

    const plain = new pg.Client({ connectionString: url });
    await plain.connect();
    try {
      const { rows } = await plain.query('SELECT 42::bigint AS n');
      assert.equal(rows[0].n, '42', "pg's global type parsers are untouched");
    } finally {
      await plain.end();
    }
  });

  test('a BIGINT too large for a JS number is an error, not a rounded value', async () => {
    await assert.rejects(db.get('SELECT 9007199254740993::bigint AS n'), RangeError);
    assert.deepEqual(await db.get('SELECT 1 AS one'), { one: 1 });
  });

  test('run returns the number of rows changed and binds booleans as 0/1', async () => {
    assert.equal(await db.run('INSERT INTO t (id, note) VALUES (?, ?), (?, ?)', [1, 'a', 2, 'b']), 2);
    assert.equal(await db.run('UPDATE t SET note = ? WHERE id > ?', ['z', 100]), 0);
    assert.equal(
      await db.run('INSERT INTO t (id, note) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', [1, 'x']),
      0,
    );
    assert.deepEqual(await db.all('SELECT id, note FROM t ORDER BY id'), [
      { id: 1, note: 'a' },
      { id: 2, note: 'b' },
    ]);
    assert.deepEqual(await db.get('SELECT ?::integer AS yes, ?::integer AS no', [true, false]), {
      yes: 1,
      no: 0,
    });
  });

  test('transactions hand their connection back, also when they fail', async () => {
    // Pool of 2: a leaked connection per failure would exhaust it and hang the next query.
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO t (id, note) VALUES (?, ?)', [100 + i, 'rolled back']);
          throw new Error('boom');
        }),
        /boom/,
      );
    }
    const count = await within(
      5_000,
      db.get<{ n: number }>('SELECT COUNT(*) AS n FROM t WHERE id >= 100'),
      'a query',
    );
    assert.equal(count?.n, 0);
  });

  test('a statement error caught inside a transaction still fails the transaction', async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, note) VALUES (?, ?)', [200, 'kept?']);
        await tx.run('INSERT INTO t (id, note) VALUES (?, ?)', [200, 'duplicate']).catch(() => 0);
        return 'done';
      }),
      /rolled back/,
    );
    assert.equal(await db.get('SELECT id FROM t WHERE id = 200'), undefined);
  });

  test('a transaction executor refuses work after its transaction ends', async () => {
    let leaked: Parameters<Parameters<PostgresDriver['transaction']>[0]>[0] | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await assert.rejects(leaked!.run('DELETE FROM t'), /transaction already finished/);
    assert.notEqual(await db.get('SELECT id FROM t WHERE id = 1'), undefined);
  });

  test('notify wakes listeners on another node; unsubscribing stops it', async () => {
    const other = await openPostgres(url, { poolSize: 1 });
    try {
      const jobs = probe();
      const jobsToo = probe();
      const barrier = probe();
      const stopJobs = await db.listen('Jobs "due"', jobs.fn);
      const stopJobsToo = await db.listen('Jobs "due"', jobsToo.fn);
      await db.listen('barrier', barrier.fn);

      const woken = Promise.all([jobs.next('jobs'), jobsToo.next('second jobs listener')]);
      await other.notify('Jobs "due"');
      await woken;
      assert.equal(jobs.calls, 1);

      await stopJobs();
      await stopJobs();
      const woken2 = jobsToo.next('second jobs listener');
      await other.notify('Jobs "due"');
      await woken2;
      await stopJobsToo();

      // Notifications arrive in order, so once the barrier's has come, a 'Jobs' one would have too.
      const crossed = barrier.next('barrier');
      await other.notify('Jobs "due"');
      await other.notify('barrier');
      await crossed;
      assert.equal(jobs.calls, 1);
      assert.equal(jobsToo.calls, 2);
    } finally {
      await other.close();
    }
  });

  test('the listener reconnects after its connection is killed, and wakes listeners', async () => {
    const woken = probe();
    await db.listen('work', woken.fn);
    const admin = await openPostgres(url, { poolSize: 1 });
    try {
      const reconnected = woken.next('the wake-up after reconnecting');
      const killed = await admin.run(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = ?`,
        ['mms-gateway-listener'],
      );
      assert.equal(killed, 1);
      await reconnected;

      const notified = woken.next('a notification after reconnecting');
      const before = woken.calls;
      await admin.notify('work');
      await notified;
      assert.equal(woken.calls, before + 1);
    } finally {
      await admin.close();
    }
  });

  test('opening a database that does not exist fails', async () => {
    const missing = new URL(url);
    missing.pathname = '/t_does_not_exist';
    await assert.rejects(openPostgres(missing.toString()), /does not exist/);
  });
});
