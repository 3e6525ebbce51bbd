import { spawn } from 'node:child_process';
import os from 'node:os';
import { startPostgresServer } from './postgres-server.ts';
import { expandTestPatterns } from './test-files.ts';

// `npm test [-- options] [files or globs]`: one embedded PostgreSQL for the whole run, its admin URL
// handed to every test process as TEST_DATABASE_URL.
const args = process.argv.slice(2);
const nodeOptions = args.filter((a) => a.startsWith('-'));
const patterns = args.filter((a) => !a.startsWith('-'));
const files = expandTestPatterns(patterns.length > 0 ? patterns : ['test/**/*.test.ts']);
if (files.length === 0) {
  console.error(`no test files match ${patterns.join(' ')}`);
  process.exit(1);
}

const startedAt = Date.now();
const server = await startPostgresServer();
console.error(`# embedded PostgreSQL on 127.0.0.1:${server.port}, ready in ${Date.now() - startedAt} ms`);

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...nodeOptions, ...files],
  { stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL: server.url } },
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    child.kill(signal);
  });
}

const code = await new Promise<number>((resolve) => {
  child.on('error', (err) => {
    console.error(err);
    resolve(1);
  });
  child.on('exit', (exitCode, signal) =>
    resolve(exitCode ?? 128 + (signal ? os.constants.signals[signal] : 0)),
  );
});
await server.stop();
process.exit(code);
