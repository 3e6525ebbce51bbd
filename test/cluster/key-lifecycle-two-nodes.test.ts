import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import { issueApiKey } from '../../src/tenants/api-keys.ts';
import { createTestDatabase } from '../support/databases.ts';
import { makeTempDir, runCli, type SpawnedGateway, spawnGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Two gateway processes on one PostgreSQL database: a key revoked with the CLI stops working on both
 * within the API-key cache TTL, both share one rate limit, and failed authentications are logged
 * without the presented key.
 */

const CACHE_TTL_MS = 1_000;
let databaseUrl: string;
let db: pg.Client;
let a: SpawnedGateway;
let b: SpawnedGateway;
let organizationId: string;
const dirs: string[] = [];

const nodeEnv = (bootstrap: boolean) => ({
  DATABASE_URL: databaseUrl,
  ROLES: 'api',
  BOOTSTRAP: String(bootstrap),
  LOG_LEVEL: 'info',
  API_KEY_CACHE_TTL_MS: String(CACHE_TTL_MS),
  // An hour-long window, so the test never straddles two windows.
  RATE_LIMIT_WINDOW_SECONDS: '3600',
  RATE_LIMIT_PER_KEY: '6',
  RATE_LIMIT_PER_ORG: '0',
});

const cli = (args: string[]) =>
  runCli([...args, '--json'], { DATABASE_URL: databaseUrl, DATA_DIR: dirs[0]! });

async function status(node: SpawnedGateway, key: string) {
  const res = await fetch(`${node.url}/v2/messaging_profiles`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

/** A new key of the sandbox organization, issued straight in the database (CLI runs are slow here). */
async function newKey(): Promise<string> {
  const store = await openStore({ dataDir: dirs[0]!, databaseUrl });
  try {
    return await issueApiKey(store, organizationId);
  } finally {
    await store.close();
  }
}

before(async () => {
  databaseUrl = await createTestDatabase();
  dirs.push(makeTempDir(), makeTempDir());
  a = await spawnGateway({ dataDir: dirs[0]!, env: nodeEnv(true), expectBanner: true });
  b = await spawnGateway({ dataDir: dirs[1]!, env: nodeEnv(false), expectBanner: false });
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  organizationId = (await db.query<{ id: string }>('SELECT id FROM organizations')).rows[0]!.id;
});

after(async () => {
  a?.kill('SIGKILL');
  b?.kill('SIGKILL');
  await db?.end();
});

test('keys list shows ids, prefixes and last use, never the secret; a revoked key fails on both nodes within the TTL', async () => {
  const key = await newKey();
  assert.equal((await status(a, key)).status, 200);
  assert.equal((await status(b, key)).status, 200);

  const lastUsed = async () =>
    (
      await db.query<{ last_used_at: string | null }>('SELECT last_used_at FROM api_keys WHERE prefix = $1', [
        key.slice(0, 9),
      ])
    ).rows[0]?.last_used_at ?? null;
  const firstUse = await waitFor(lastUsed, { description: 'last_used_at written' });
  // More requests within the minute do not write again.
  for (let i = 0; i < 3; i++) assert.equal((await status(a, key)).status, 200);
  assert.equal(await lastUsed(), firstUse, 'last_used_at is written at most once a minute per key and node');

  const listed = await cli(['keys', 'list', '--org', organizationId]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(!listed.stdout.includes(key), 'the secret is never shown');
  const keys = (JSON.parse(listed.stdout) as { keys: Array<Record<string, string | null>> }).keys;
  assert.equal(keys.length, 2, 'the sandbox key and the new one');
  const mine = keys.find((k) => k.prefix === `${key.slice(0, 9)}…`);
  assert.ok(mine, `a key listed with prefix ${key.slice(0, 9)}…`);
  assert.deepEqual(Object.keys(mine).sort(), ['created_at', 'id', 'last_used_at', 'prefix', 'revoked_at']);
  assert.ok(mine.last_used_at);
  assert.equal(mine.revoked_at, null);

  const revoked = await cli(['keys', 'revoke', mine.id!]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const revokedAt = Date.now();
  for (const node of [a, b]) {
    await waitFor(async () => (await status(node, key)).status === 401, {
      timeoutMs: CACHE_TTL_MS + 2_000,
      intervalMs: 100,
      description: `the revoked key refused by ${node.url} within the cache TTL`,
    });
  }
  assert.ok(Date.now() - revokedAt <= CACHE_TTL_MS + 2_000);
  const again = await cli(['keys', 'revoke', mine.id!]);
  assert.notEqual(again.code, 0, 'revoking twice is an error');
});

test('both nodes share one rate limit: 6 per key in all, then 429 10011 with Retry-After on each', async () => {
  const key = await newKey();
  for (let i = 0; i < 3; i++) {
    assert.equal((await status(a, key)).status, 200);
    assert.equal((await status(b, key)).status, 200);
  }
  for (const node of [a, b]) {
    const refused = await status(node, key);
    assert.equal(refused.status, 429);
    assert.match(refused.retryAfter ?? '', /^\d+$/);
  }
});

test('failed authentications are logged without the presented key', async () => {
  const secret = 'KEYthis-is-a-guessed-secret-0123456789';
  assert.equal((await status(a, secret)).status, 401);
  await a.waitForStdout(/"msg":"authentication failed"/);
  const line = a
    .stdout()
    .split('\n')
    .find((l) => l.includes('"authentication failed"'))!;
  assert.match(line, /"failures_total":\d+/);
  assert.ok(!a.stdout().includes(secret) && !a.stderr().includes(secret), 'the key is not in the logs');
  assert.ok(!a.stdout().includes('guessed-secret'));
});

test('concurrent duplicates with one Idempotency-Key on both nodes store one message', async () => {
  const key = await newKey();
  const body = JSON.stringify({
    from: '+13125550001',
    to: ['+13125550100', '+13125550101'],
    text: 'across nodes',
  });
  const results = await Promise.all(
    [a, b, a, b, a, b].map(async (node) => {
      const res = await fetch(`${node.url}/v2/messages/group_mms`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': 'cross-node-1',
        },
        body,
      });
      return { status: res.status, body: (await res.json()) as { data: { id: string } } };
    }),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200, 200, 200],
  );
  const ids = new Set(results.map((r) => r.body.data.id));
  assert.equal(ids.size, 1);
  const stored = await db.query("SELECT id FROM messages WHERE text = 'across nodes'");
  assert.deepEqual(
    stored.rows.map((r) => r.id),
    [...ids],
  );
});
