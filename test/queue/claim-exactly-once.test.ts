import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';
import { createStore } from '../../src/store/store.ts';

const CLAIMER = fileURLToPath(new URL('../support/claim-loop.ts', import.meta.url));

function claimInProcess(
  file: string,
  workerId: string,
  go: Promise<void>,
  ready: () => void,
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLAIMER, file, workerId], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stderr.once('data', () => {
      ready();
      void go.then(() => child.stdin.write('go\n'));
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`exit ${code}`)),
    );
  });
}

// In one process, SQLite statements never interleave, so a claim that reads and then updates in two
// steps would still pass there. Separate processes on one file do interleave.
test('sqlite: 4 processes claiming from one database file claim each of 600 jobs exactly once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-claims-'));
  const file = path.join(dir, 'gateway.sqlite');
  try {
    const store = createStore(openSqlite(file));
    await store.migrate();
    await store.jobs.enqueueMany(Array.from({ length: 600 }, (_, n) => ({ queue: 'q', payload: { n } })));
    await store.close();

    // All four processes start claiming at the same moment.
    let readyCount = 0;
    let start!: () => void;
    const go = new Promise<void>((resolve) => {
      start = resolve;
    });
    const ready = () => {
      if (++readyCount === 4) start();
    };
    const results = await Promise.all(
      ['p1', 'p2', 'p3', 'p4'].map((w) => claimInProcess(file, w, go, ready)),
    );
    const all = results.flat();
    assert.equal(new Set(all).size, 600, 'every job claimed');
    assert.equal(all.length, 600, 'none claimed twice');
    assert.ok(results.filter((r) => r.length > 0).length >= 2, 'the processes really competed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
