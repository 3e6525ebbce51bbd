import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The compiled build as a user meets it: a fresh clone whose `npm install` builds dist/ (the
 * `prepare` script; the dependencies themselves come from this checkout's node_modules, since tests
 * run offline), `npm start` running compiled JavaScript, and `npm pack`'s tarball installed in an
 * empty folder answering `npx mms-gateway --version`.
 */

const run = promisify(execFile);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-build-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid)
      process.kill(-child.pid, 'SIGKILL');
  }
  fs.rmSync(work, { recursive: true, force: true });
});

const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};
const env: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
};
for (const key of ['DATABASE_URL', 'PORT', 'HOST', 'DATA_DIR', 'ROLES', 'LOG_LEVEL', 'BOOTSTRAP'])
  delete env[key];

test('a fresh clone builds on install, starts compiled, and packs a tarball that installs and runs', {
  timeout: 900_000,
}, async () => {
  const clone = path.join(work, 'clone');
  await run('git', ['clone', '-q', REPO_ROOT, clone]);
  // Uncommitted work of this checkout is part of what is tested.
  for (const file of (
    await run('git', ['ls-files', '-m', '-o', '--exclude-standard'], { cwd: REPO_ROOT })
  ).stdout.split('\n')) {
    if (!file || file === 'node_modules') continue;
    fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    fs.cpSync(path.join(REPO_ROOT, file), path.join(clone, file));
  }
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'));
  const pkg = JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8'));
  assert.equal(pkg.scripts.prepare, 'npm run build', 'npm install builds');
  assert.ok(!pkg.dependencies.tsx, 'tsx is not a runtime dependency');
  await run('npm', ['run', 'prepare'], { cwd: clone, env });
  for (const asset of [
    'cli/main.js',
    'store/migrations/sqlite/001_init.sql',
    'store/migrations/postgres/001_init.sql',
    'numbers/demo-prefix-table.json',
  ]) {
    assert.ok(fs.existsSync(path.join(clone, 'dist', asset)), `dist/${asset}`);
  }

  // npm start: compiled JavaScript, no TypeScript loader.
  const start = spawn('npm', ['start'], {
    cwd: clone,
    env: { ...env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: path.join(work, 'data'), LOG_LEVEL: 'info' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(start);
  let out = '';
  start.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  start.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const url = (
    await waitFor(() => /"msg":"Server listening at (http:\/\/[^"]+)"/.exec(out), { timeoutMs: 120_000 })
  )[1]!;
  assert.match(out, /> node dist\/cli\/main\.js serve/);
  assert.equal((await fetch(`${url}/health`)).status, 200);
  await waitFor(() => /^ {2}API key: +KEY/m.test(out), { description: 'the banner' });
  process.kill(-start.pid!, 'SIGTERM');
  await new Promise((r) => start.once('close', r));

  const tarball = path.join(
    clone,
    (await run('npm', ['pack', '--ignore-scripts', '--silent'], { cwd: clone, env })).stdout.trim(),
  );
  const listing = (await run('tar', ['-tzf', tarball])).stdout.split('\n');
  assert.ok(listing.includes('package/dist/cli/main.js') && listing.includes('package/bin/mms-gateway.js'));
  assert.ok(!listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')));

  // `npm install --offline <tarball>` cannot resolve the dependencies here (no registry, no cache), so
  // the tarball is unpacked where npm would put it, with this checkout's node_modules for its own.
  const app = path.join(work, 'app');
  const installed = path.join(app, 'node_modules', 'mms-gateway');
  fs.mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(installed, 'node_modules'));
  fs.mkdirSync(path.join(app, 'node_modules', '.bin'));
  fs.symlinkSync('../mms-gateway/bin/mms-gateway.js', path.join(app, 'node_modules', '.bin', 'mms-gateway'));
  const npx = await run('npx', ['--no-install', 'mms-gateway', '--version'], { cwd: app, env });
  assert.equal(npx.stdout.trim(), version);
});
