import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { REPO_ROOT } from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * `npm run cluster` stopped as a terminal stops it: Ctrl-C sends SIGINT to the whole foreground
 * process group. The nodes stop first, then the database; nothing is logged as an error and the
 * database's data folder is gone.
 */
test('npm run cluster: Ctrl-C stops the nodes, then PostgreSQL, with no error and no folder left', {
  timeout: 300_000,
}, async () => {
  const basePort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODES: '2',
    BASE_PORT: String(basePort),
    LOG_LEVEL: 'info',
  };
  for (const key of ['DATABASE_URL', 'PORT', 'DATA_DIR', 'ROLES', 'BOOTSTRAP']) delete env[key];
  // detached: a process group of its own, like a shell's foreground job.
  const cluster = spawn(process.execPath, ['--import', 'tsx', 'scripts/local-cluster.ts'], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  cluster.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  cluster.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => cluster.once('close', (code) => r(code)));
  try {
    await waitFor(() => out.includes('nodes up'), { timeoutMs: 180_000, description: `cluster up:\n${out}` });
    const dataDir = /\(data in ([^)]+)\)/.exec(out)![1]!;
    assert.ok(fs.existsSync(dataDir));
    const res = await fetch(`http://127.0.0.1:${basePort + 1}/readyz`);
    assert.equal(res.status, 200);

    process.kill(-cluster.pid!, 'SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /cluster stopped/);
    const errors = out.split('\n').filter((l) => /"level":(50|60)|shutdown failed|Error|ERROR|FATAL/.test(l));
    assert.deepEqual(errors, [], out);
    assert.ok(!fs.existsSync(dataDir), `${dataDir} left behind`);
  } finally {
    if (cluster.exitCode === null) process.kill(-cluster.pid!, 'SIGKILL');
  }
});
