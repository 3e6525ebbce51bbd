/**
 * `npm run fuzz`: generated requests (bodies, headers, paths, query strings; every route) against a
 * gateway started here as its own process on 127.0.0.1, then a check that it is still alive.
 *
 *   npm run fuzz                                   # 100,000 requests, SQLite
 *   FUZZ_STORE=postgres npm run fuzz               # on a throwaway embedded PostgreSQL
 *   FUZZ_COUNT=20000 FUZZ_SEED=42 FUZZ_CONCURRENCY=16 npm run fuzz
 *
 * Exits non-zero on any 5xx or a dead gateway, printing the first offending requests.
 */
import fs from 'node:fs';
import pg from 'pg';
import { prepareFuzzTarget, runFuzz, summarize } from '../test/support/fuzz-requests.ts';
import { makeTempDir, spawnGateway } from '../test/support/gateway.ts';
import { type PostgresServer, startPostgresServer } from '../test/support/postgres-server.ts';

const count = Number(process.env.FUZZ_COUNT ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 16);
const store = process.env.FUZZ_STORE ?? 'sqlite';
if (store !== 'sqlite' && store !== 'postgres') throw new Error('FUZZ_STORE must be sqlite or postgres');

const dataDir = makeTempDir('mms-gateway-fuzz-');
let postgres: PostgresServer | null = null;
// The per-address limit on failed authentications is off, so generated requests reach every route.
const env: Record<string, string> = {
  ROLES: 'api',
  LOG_LEVEL: 'warn',
  BODY_LIMIT_BYTES: '1048576',
  AUTH_FAILURES_PER_IP_PER_MINUTE: '0',
};
if (store === 'postgres') {
  postgres = await startPostgresServer();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE fuzz');
  await admin.end();
  env.DATABASE_URL = postgres.url.replace(/\/postgres$/, '/fuzz');
}

// LOG_LEVEL=warn hides the banner, so the sandbox is created first and its key read from the store.
const { openStore } = await import('../src/store/open-store.ts');
const { bootstrapSandbox } = await import('../src/tenants/bootstrap.ts');
const seeding = await openStore({ dataDir, databaseUrl: env.DATABASE_URL });
const sandbox = await bootstrapSandbox(seeding);
await seeding.close();
if (!sandbox) throw new Error('no sandbox');

const gateway = await spawnGateway({ dataDir, env: { ...env, BOOTSTRAP: 'false' }, expectBanner: false });
console.log(
  `fuzz: ${count} requests, seed ${seed}, concurrency ${concurrency}, ${store}, gateway ${gateway.url}`,
);
let exitCode = 1;
try {
  const target = await prepareFuzzTarget(gateway.url, sandbox.apiKey, sandbox);
  let shown = 0;
  const report = await runFuzz(target, {
    count,
    seed,
    concurrency,
    onProgress: (done) => {
      if (done - shown >= 10_000) {
        shown = done;
        console.log(`  ${done} sent`);
      }
    },
  });
  console.log(`fuzz (${store}, seed ${seed}): ${summarize(report)}`);
  for (const example of report.examples) console.log(JSON.stringify(example));
  const errorLines = gateway
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"level":50'));
  console.log(`gateway error-level log lines: ${errorLines.length}`);
  for (const line of errorLines.slice(0, 5)) console.log(`  ${line.slice(0, 400)}`);
  exitCode = report.fiveXx === 0 && report.alive ? 0 : 1;
} finally {
  gateway.kill('SIGTERM');
  await gateway.exited;
  await postgres?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
