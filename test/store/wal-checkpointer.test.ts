import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';
import { waitFor } from '../support/wait-for.ts';

// The gateway's SQLite store checkpoints its WAL from a worker thread: the database file takes the
// committed pages while the main connection (whose own checkpoint is only a far-off backstop)
// never copies them itself.

async function fillWal(background: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-wal-'));
  const file = path.join(dir, 'gateway.sqlite');
  const driver = openSqlite(file, { backgroundCheckpoints: background });
  await driver.run('CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const before = fs.statSync(file).size;
  // About 8 MB of rows: far past nothing, far below the main connection's backstop.
  const body = 'x'.repeat(4_000);
  for (let i = 0; i < 2_000; i++) await driver.run('INSERT INTO filler (body) VALUES (?)', [body]);
  return { dir, file, driver, before };
}

test('committed pages reach the database file from the background checkpointer, and closing stops it', async () => {
  const { dir, file, driver, before } = await fillWal(true);
  try {
    await waitFor(() => fs.statSync(file).size > before + 4_000_000, {
      description: 'the database file took the WAL pages',
    });
  } finally {
    await driver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('without it (short-lived stores) the same writes stay in the WAL until the backstop', async () => {
  const { dir, file, driver, before } = await fillWal(false);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // wal_autocheckpoint at 10,000 pages (~40 MB): 8 MB of rows stay in the WAL.
    assert.ok(fs.statSync(file).size < before + 1_000_000);
    assert.ok(fs.statSync(`${file}-wal`).size > 4_000_000);
  } finally {
    await driver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
