import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createApiClient, groupMmsBody, waitUntil } from '../support/crash-harness.ts';
import { createTestDatabase } from '../support/databases.ts';
import { apiKeyFromBanner, makeTempDir, type SpawnedGateway, spawnGateway } from '../support/gateway.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const SENDERS = ['+13125550001', '+13125550002', '+13125550003'];
const FINAL = "('delivered','delivery_failed','delivery_unconfirmed','sending_failed','expired')";

let databaseUrl: string;
let db: pg.Client;
let receiver: WebhookReceiver;
const nodes: SpawnedGateway[] = [];

const nodeEnv = (bootstrap: boolean) => ({
  DATABASE_URL: databaseUrl,
  ROLES: 'api,worker',
  BOOTSTRAP: String(bootstrap),
  LOG_LEVEL: 'info',
  OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8',
  SIMULATOR_REPORT_DELAY_MS: '20',
  RETRY_SCALE: '0.01',
  JOB_LEASE_MS: '3000',
  WORKER_POLL_MS: '100',
  WORKER_CONCURRENCY: '16',
  SHUTDOWN_GRACE_MS: '1000',
});

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

async function sendAll(total: number, offset: number, apiKey: string, targets: () => SpawnedGateway[]) {
  const client = createApiClient({ connections: 32 });
  const accepted: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const alive = targets();
      // Spread over the live nodes; a request cut by a kill is sent again to another node.
      for (let tries = 0; tries < 5; tries++) {
        const node = alive[(i + tries) % alive.length]!;
        const res = await client.sendGroupMms(
          node.url,
          apiKey,
          groupMmsBody(offset + i, receiver.url, SENDERS),
        );
        if (res.ok) {
          accepted.push(res.id);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 24 }, worker));
  await client.close();
  return accepted;
}

before(async () => {
  databaseUrl = await createTestDatabase();
  receiver = await startWebhookReceiver();
  // The first node migrates and bootstraps; the other two start together on the same database.
  nodes.push(await spawnGateway({ dataDir: makeTempDir(), env: nodeEnv(true) }));
  nodes.push(
    ...(await Promise.all([
      spawnGateway({ dataDir: makeTempDir(), env: nodeEnv(false) }),
      spawnGateway({ dataDir: makeTempDir(), env: nodeEnv(false) }),
    ])),
  );
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});

after(async () => {
  for (const node of nodes) node.kill('SIGKILL');
  await db?.end();
  await receiver?.close();
});

test('three nodes on one PostgreSQL share 3,000 group MMS: each recipient submitted once, all final, all finalized delivered', async () => {
  const apiKey = apiKeyFromBanner(nodes[0]!.stdout());
  assert.ok(apiKey, 'the first node printed the sandbox key');
  const accepted = await sendAll(3000, 0, apiKey, () => nodes);
  assert.equal(accepted.length, 3000);

  await waitUntil(
    async () =>
      (await count(`SELECT COUNT(*) AS n FROM message_recipients WHERE status NOT IN ${FINAL}`)) === 0,
    {
      timeoutMs: 240_000,
      intervalMs: 500,
      describe: () => 'all recipients final',
    },
  );
  await waitUntil(() => receiver.finalized.size >= 9000, {
    timeoutMs: 120_000,
    describe: () => `${receiver.finalized.size} of 9000 recipients' message.finalized received`,
  });

  assert.equal(await count('SELECT COUNT(*) AS n FROM message_recipients'), 9000);
  assert.equal(await count(`SELECT COUNT(*) AS n FROM message_recipients WHERE status = 'delivered'`), 9000);
  assert.equal(await count('SELECT COUNT(*) AS n FROM simulator_submissions'), 9000);
  assert.equal(await count('SELECT COUNT(*) AS n FROM simulator_submissions WHERE times_seen > 1'), 0);
  assert.equal(receiver.finalized.size, 9000);
});

test('a node SIGKILLed mid-run: the other two finish its work after its leases expire', async () => {
  const apiKey = apiKeyFromBanner(nodes[0]!.stdout())!;
  const victim = nodes[2]!;
  const victimPid = victim.child.pid!;
  let killedWithLeases = -1;

  const sending = sendAll(900, 3000, apiKey, () =>
    victim.child.exitCode === null && killedWithLeases < 0 ? nodes : nodes.slice(0, 2),
  );
  // Kill it while it holds leased jobs.
  await waitUntil(
    async () =>
      (await count('SELECT COUNT(*) AS n FROM jobs WHERE locked_by LIKE $1 AND locked_until > $2', [
        `${victimPid}-%`,
        Date.now(),
      ])) > 0,
    { timeoutMs: 60_000, intervalMs: 5, describe: () => 'the victim node leasing jobs' },
  );
  victim.kill('SIGKILL');
  await victim.exited;
  killedWithLeases = await count('SELECT COUNT(*) AS n FROM jobs WHERE locked_by LIKE $1', [
    `${victimPid}-%`,
  ]);
  const accepted = await sending;
  assert.equal(accepted.length, 900);

  await waitUntil(
    async () =>
      (await count(`SELECT COUNT(*) AS n FROM message_recipients WHERE status NOT IN ${FINAL}`)) === 0,
    {
      timeoutMs: 240_000,
      intervalMs: 500,
      describe: () => 'all recipients final after the kill',
    },
  );
  // A send cut by the kill may have been committed before its answer was lost; the client's resend
  // then made a second message. So the totals come from the table, and each accepted id is checked.
  const recipients = await count('SELECT COUNT(*) AS n FROM message_recipients');
  assert.ok(recipients >= 11700);
  await waitUntil(() => receiver.finalized.size >= recipients, {
    timeoutMs: 120_000,
    describe: () => `${receiver.finalized.size} of ${recipients} recipients' message.finalized received`,
  });
  assert.ok(killedWithLeases > 0, 'the victim held leased jobs when it died');
  assert.equal(await count('SELECT COUNT(*) AS n FROM jobs WHERE locked_by LIKE $1', [`${victimPid}-%`]), 0);
  assert.equal(await count(`SELECT COUNT(*) AS n FROM message_recipients WHERE status <> 'delivered'`), 0);
  assert.equal(
    await count(
      `SELECT COUNT(*) AS n FROM message_recipients WHERE status = 'delivered' AND message_id = ANY($1)`,
      [accepted],
    ),
    2700,
  );
  // A recipient submitted twice must be one whose submit the victim had in flight when it died.
  const dupes = await count('SELECT COUNT(*) AS n FROM simulator_submissions WHERE times_seen > 1');
  assert.ok(
    dupes <= killedWithLeases * 8,
    `${dupes} repeated submits, ${killedWithLeases} jobs leased by the victim`,
  );
});
