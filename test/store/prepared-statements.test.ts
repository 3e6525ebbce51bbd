import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openPostgres } from '../../src/store/postgres/postgres-driver.ts';
import { createTestDatabase, dropTestDatabase } from '../support/databases.ts';

// PostgreSQL parses and plans a statement with parameters once per connection (a named prepared
// statement), not at every run; a plan gone stale under a running node does not break it.

test('statements with parameters are prepared once per connection, and a stale plan falls back to an unprepared run', async () => {
  const url = await createTestDatabase();
  const driver = await openPostgres(url, { poolSize: 1 });
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  try {
    await driver.run('CREATE TABLE things (id TEXT PRIMARY KEY, n INTEGER)');
    await driver.run('INSERT INTO things (id, n) VALUES (?, ?), (?, ?)', ['a', 1, 'b', 2]);
    const read = 'SELECT * FROM things WHERE id = ?';
    assert.deepEqual(await driver.all(read, ['a']), [{ id: 'a', n: 1 }]);
    assert.deepEqual(await driver.all(read, ['b']), [{ id: 'b', n: 2 }]);

    // One connection in the pool: it is the one that prepared them.
    const prepared = await driver.all<{ statement: string }>(
      'SELECT statement FROM pg_prepared_statements WHERE statement LIKE ?',
      ['%things%'],
    );
    assert.deepEqual(prepared.map((p) => p.statement).sort(), [
      'INSERT INTO things (id, n) VALUES ($1, $2), ($3, $4)',
      'SELECT * FROM things WHERE id = $1',
    ]);

    // Another node's migration adds a column under `SELECT *`: the prepared plan is stale.
    await other.query('ALTER TABLE things ADD COLUMN note TEXT');
    assert.deepEqual(await driver.all(read, ['a']), [{ id: 'a', n: 1, note: null }]);
    assert.deepEqual(await driver.all(read, ['b']), [{ id: 'b', n: 2, note: null }]);
  } finally {
    await other.end();
    await driver.close();
    await dropTestDatabase(url);
  }
});
