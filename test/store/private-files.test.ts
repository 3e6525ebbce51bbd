import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ensurePrivateDir } from '../../src/store/private-files.ts';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';

const mode = (dir: string) => fs.statSync(dir).mode & 0o7777;

test('a folder others may enter is made 0700, and its old mode returned for the warning', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-'));
  try {
    fs.chmodSync(dir, 0o755);
    assert.equal(ensurePrivateDir(dir), 0o755);
    assert.equal(mode(dir), 0o700);
    assert.equal(ensurePrivateDir(dir), null, 'already private');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a shared folder with the sticky bit (like /tmp) is left as it is; the database made in it is 0600', async () => {
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-'));
  try {
    fs.chmodSync(shared, 0o1777);
    assert.equal(ensurePrivateDir(shared), null);
    assert.equal(mode(shared), 0o1777, 'still open to the other users of the machine');
    const file = path.join(shared, 'gateway.sqlite');
    const driver = openSqlite(file);
    await driver.migrate();
    await driver.close();
    assert.equal(mode(shared), 0o1777, 'opening a database in it does not close it either');
    assert.equal(mode(file), 0o600);
  } finally {
    fs.rmSync(shared, { recursive: true, force: true });
  }
});
