import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from '../support/databases.ts';
import {
  apiKeyFromBanner,
  makeTempDir,
  runCli,
  type SpawnedGateway,
  spawnGateway,
} from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Two gateway processes on one PostgreSQL hold a sender's limit together: the operator sets it with
 * the CLI, messages are sent to both nodes in turn, both nodes' workers submit, none failed or was
 * retried, the moments the nodes gave their submits (database clock) are spaced by the interval,
 * and the carrier simulator's book (one table in the shared database) shows the rate held over the
 * run. SPREAD_MS: see test/pipeline/throughput-limits.test.ts.
 */

const SENDER = '+13125550001';
const PER_SECOND = 4;
const INTERVAL_MS = 1000 / PER_SECOND;
const COUNT = 16;
const SPREAD_MS = 50;

let databaseUrl: string;
let db: pg.Client;
const nodes: SpawnedGateway[] = [];

const nodeEnv = (bootstrap: boolean) => ({
  DATABASE_URL: databaseUrl,
  ROLES: 'api,worker',
  BOOTSTRAP: String(bootstrap),
  LOG_LEVEL: 'debug',
  SIMULATOR_REPORT_DELAY_MS: '20',
  RETRY_SCALE: '0.01',
  WORKER_POLL_MS: '50',
  CONNECTOR_CACHE_MS: '0',
  SHUTDOWN_GRACE_MS: '500',
});

before(async () => {
  databaseUrl = await createTestDatabase();
  nodes.push(await spawnGateway({ dataDir: makeTempDir(), env: nodeEnv(true) }));
  nodes.push(await spawnGateway({ dataDir: makeTempDir(), env: nodeEnv(false) }));
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});

after(async () => {
  for (const node of nodes) node.kill('SIGKILL');
  await db?.end();
});

test('two nodes on one PostgreSQL together hold a sender to its messages per second', async () => {
  const apiKey = apiKeyFromBanner(nodes[0]!.stdout());
  assert.ok(apiKey, 'the first node printed the sandbox key');
  const set = await runCli(
    ['limits', 'set', '--number', SENDER, '--per-second', String(PER_SECOND), '--json'],
    { DATABASE_URL: databaseUrl, DATA_DIR: makeTempDir() },
  );
  assert.equal(set.code, 0, set.stderr);
  assert.equal(JSON.parse(set.stdout).limit.max_per_second, PER_SECOND);

  const ids: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const node = nodes[i % 2]!;
    const res: Response = await fetch(`${node.url}/v2/messages/group_mms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: SENDER, to: [`+1312555${7000 + i}`], text: `two nodes ${i}` }),
    });
    assert.equal(res.status, 200);
    ids.push(((await res.json()) as { data: { id: string } }).data.id);
  }

  await waitFor(
    async () => {
      const { rows } = await db.query<{ n: string }>(
        `SELECT COUNT(*) AS n FROM message_recipients WHERE message_id = ANY($1) AND status = 'delivered'`,
        [ids],
      );
      return Number(rows[0]!.n) === COUNT;
    },
    { timeoutMs: 60_000, description: `${COUNT} messages delivered` },
  );

  const { rows } = await db.query<{ idempotency_key: string; created_at: string; times_seen: number }>(
    'SELECT idempotency_key, created_at, times_seen FROM simulator_submissions WHERE idempotency_key = ANY($1)',
    [ids],
  );
  assert.equal(rows.length, COUNT, 'one submit per message');
  assert.ok(
    rows.every((r) => Number(r.times_seen) === 1),
    'none submitted twice',
  );
  // The moments the two nodes gave their submits, on the database's clock (each node logs them):
  // every one at least the interval after the one before, whichever node took it.
  const went = new Map<string, number>();
  for (const [n, node] of nodes.entries()) {
    const lines = node
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"msg":"message submitted"'))
      .map((line) => JSON.parse(line) as { messageId: string; wentAt: number });
    assert.ok(lines.length > 0, `node ${n} submitted some of the messages`);
    for (const l of lines) if (ids.includes(l.messageId)) went.set(l.messageId, l.wentAt);
  }
  assert.equal(went.size, COUNT, 'every submit was given its moment');
  const moments = [...went.values()].sort((a, b) => a - b);
  for (let i = 1; i < moments.length; i++) {
    const gap = moments[i]! - moments[i - 1]!;
    assert.ok(gap >= INTERVAL_MS, `moment ${i} was given ${gap} ms after moment ${i - 1}`);
  }
  // At the carrier (the simulator's book, stamped by each node's own clock a few awaits into the
  // submit, so a stalled node shifts its stamp), the two nodes together held the rate over the run.
  const stamps = rows.map((r) => Date.parse(r.created_at)).sort((a, b) => a - b);
  assert.ok(
    stamps.at(-1)! - stamps[0]! >= (COUNT - 1) * INTERVAL_MS - SPREAD_MS,
    `${COUNT} submits took ${stamps.at(-1)! - stamps[0]!} ms`,
  );
});
