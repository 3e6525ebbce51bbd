import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, test } from 'node:test';
import { SANDBOX_NUMBERS } from '../../src/tenants/bootstrap.ts';
import {
  apiKeyFromBanner,
  makeTempDir,
  openTestStore,
  runCli,
  type SpawnedGateway,
  spawnGateway,
} from '../support/gateway.ts';

/**
 * The gateway as operators run it: a child process on the TEST_STORE store (SQLite or PostgreSQL). A 200 means the message is committed,
 * so it survives SIGKILL; the admin CLI creates working tenants; a bad setting stops start-up.
 */

const dirs: string[] = [];
const children: SpawnedGateway[] = [];

function tempDir(): string {
  const dir = makeTempDir('mms-gateway-crash-');
  dirs.push(dir);
  return dir;
}

after(async () => {
  for (const child of children) {
    if (child.child.exitCode === null && child.child.signalCode === null) {
      child.kill('SIGKILL');
      await child.exited;
    }
  }
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string, env: Record<string, string> = {}): Promise<SpawnedGateway> {
  const gateway = await spawnGateway({ dataDir, env: { ROLES: 'api', ...env } });
  children.push(gateway);
  return gateway;
}

interface Sent {
  to: string[];
  text: string;
}

function groupBody(from: string, batch: string, i: number): Sent & { from: string } {
  const base = 100 + ((i * 3) % 9000);
  const to = [0, 1, 2].map((k) => `+1312555${String(base + k).padStart(4, '0')}`);
  return { from, to, text: `${batch} message #${i}` };
}

async function organizationCount(dataDir: string): Promise<number> {
  const store = await openTestStore(dataDir);
  try {
    return await store.organizations.count();
  } finally {
    await store.close();
  }
}

async function postGroup(
  url: string,
  apiKey: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('crash durability', { timeout: 300_000 }, () => {
  test('every group MMS answered 200 is still there after SIGKILL and a restart', async (t) => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    // The first start on an empty database prints the sandbox's API key once.
    assert.ok(first.apiKey, 'no sandbox key in the banner');
    assert.equal(first.apiKey, apiKeyFromBanner(first.stdout()));
    const sandbox = { apiKey: first.apiKey, numbers: SANDBOX_NUMBERS };
    const accepted = new Map<string, Sent>();

    const BATCH = 300;
    const CONCURRENCY = 20;
    let next = 0;
    let batchOneDone = 0;
    let killed = false;
    let secondBatchOk = 0;
    let secondBatchFailed = 0;

    // Batch 2 fires continuously alongside batch 1, so requests are in flight when the kill lands.
    let stopSecond = false;
    const secondBatch = Promise.all(
      Array.from({ length: 10 }, async (_, lane) => {
        for (let i = 0; !stopSecond; i++) {
          const sent = groupBody(sandbox.numbers[1]!, `batch2 lane ${lane}`, i);
          let res: { status: number; json: unknown };
          try {
            res = await postGroup(first.url, sandbox.apiKey, sent);
          } catch {
            // The connection died with the process.
            assert.ok(killed, 'a request failed before the kill');
            secondBatchFailed++;
            stopSecond = true;
            break;
          }
          assert.equal(res.status, 200, JSON.stringify(res.json));
          accepted.set((res.json as { data: { id: string } }).data.id, sent);
          secondBatchOk++;
        }
      }),
    );

    const firstBatch = Array.from({ length: CONCURRENCY }, async () => {
      while (next < BATCH) {
        const i = next++;
        const sent = groupBody(sandbox.numbers[0]!, 'batch1', i);
        const res = await postGroup(first.url, sandbox.apiKey, sent);
        assert.equal(res.status, 200, JSON.stringify(res.json));
        accepted.set((res.json as { data: { id: string } }).data.id, sent);
        batchOneDone++;
        if (batchOneDone === BATCH) {
          // Right after the last 200 of batch 1, while batch 2 is still sending.
          killed = true;
          first.kill('SIGKILL');
        }
      }
    });

    await Promise.all(firstBatch);
    const exit = await first.exited;
    stopSecond = true;
    await secondBatch;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(batchOneDone, BATCH);
    t.diagnostic(`batch 2: ${secondBatchOk} answered 200 before the kill, ${secondBatchFailed} cut off`);

    const second = await start(dataDir);
    assert.equal(second.apiKey, null);
    assert.equal(apiKeyFromBanner(second.stdout()), null, 'a restart prints no banner');
    const entries = [...accepted.entries()];
    assert.ok(entries.length >= BATCH);
    let cursor = 0;
    const missing: string[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (cursor < entries.length) {
          const [id, sent] = entries[cursor++]!;
          const res = await fetch(`${second.url}/v2/messages/${id}`, {
            headers: { authorization: `Bearer ${sandbox.apiKey}` },
          });
          if (res.status !== 200) {
            missing.push(id);
            await res.body?.cancel();
            continue;
          }
          const { data } = (await res.json()) as {
            data: { text: string; to: Array<{ phone_number: string; status: string }> };
          };
          assert.equal(data.text, sent.text);
          assert.deepEqual(
            data.to.map((r) => r.phone_number),
            sent.to,
          );
          for (const r of data.to) assert.equal(r.status, 'queued');
        }
      }),
    );
    assert.deepEqual(missing, [], `${missing.length} of ${entries.length} acknowledged messages were lost`);

    // The restarted gateway keeps taking messages.
    const after = await postGroup(
      second.url,
      sandbox.apiKey,
      groupBody(sandbox.numbers[2]!, 'after restart', 0),
    );
    assert.equal(after.status, 200);
    second.kill('SIGTERM');
    const stopped = await second.exited;
    assert.equal(stopped.code, 0, 'SIGTERM is a clean shutdown');
    assert.equal(await organizationCount(dataDir), 1, 'the restart must not bootstrap a second sandbox');
  });
});

describe('admin CLI', { timeout: 300_000 }, () => {
  test('orgs create, keys create and numbers add print JSON whose key and numbers work', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' };

    const org = await runCli(['orgs', 'create', 'Acme Corp', '--json'], env);
    assert.equal(org.code, 0, org.stderr);
    const orgJson = JSON.parse(org.stdout) as { organization_id: string; api_key: string };
    assert.match(orgJson.organization_id, /^[0-9a-f-]{36}$/);
    assert.match(orgJson.api_key, /^KEY/);

    const key = await runCli(['keys', 'create', '--org', orgJson.organization_id, '--json'], env);
    assert.equal(key.code, 0, key.stderr);
    const keyJson = JSON.parse(key.stdout) as { organization_id: string; api_key: string };
    assert.equal(keyJson.organization_id, orgJson.organization_id);
    assert.notEqual(keyJson.api_key, orgJson.api_key);

    // BOOTSTRAP stays on: the database already has an organization, so no sandbox is made.
    const gateway = await start(dataDir, { BOOTSTRAP: 'true' });
    const auth = (apiKey: string) => ({
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
    });

    const created = await fetch(`${gateway.url}/v2/messaging_profiles`, {
      method: 'POST',
      headers: auth(orgJson.api_key),
      body: JSON.stringify({ name: 'Acme', whitelisted_destinations: ['US'] }),
    });
    assert.equal(created.status, 200);
    const profile = ((await created.json()) as { data: { id: string; organization_id: string } }).data;
    assert.equal(profile.organization_id, orgJson.organization_id);

    const numbers = await runCli(
      [
        'numbers',
        'add',
        '+13125557001',
        '+13125557002',
        '--org',
        orgJson.organization_id,
        '--profile',
        profile.id,
        '--json',
      ],
      env,
    );
    assert.equal(numbers.code, 0, numbers.stderr);
    const numbersJson = JSON.parse(numbers.stdout) as {
      numbers: Array<{ id: string; phone_number: string; messaging_profile_id: string }>;
    };
    assert.deepEqual(
      numbersJson.numbers.map((n) => [n.phone_number, n.messaging_profile_id]),
      [
        ['+13125557001', profile.id],
        ['+13125557002', profile.id],
      ],
    );

    // The second key sends from a number the CLI added while the gateway was running.
    const sent = await postGroup(gateway.url, keyJson.api_key, {
      from: '+13125557002',
      to: ['+13125550100', '+13125550101'],
      text: 'hi from Acme',
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    assert.equal(
      (sent.json as { data: { organization_id: string } }).data.organization_id,
      orgJson.organization_id,
    );

    const listed = await fetch(`${gateway.url}/v2/messaging_profiles/${profile.id}/phone_numbers`, {
      headers: auth(keyJson.api_key),
    });
    const listedIds = ((await listed.json()) as { data: Array<{ id: string }> }).data.map((n) => n.id).sort();
    assert.deepEqual(listedIds, numbersJson.numbers.map((n) => n.id).sort());

    // A mistake is refused with a message and a non-zero exit.
    const dup = await runCli(['numbers', 'add', '+13125557001', '--org', orgJson.organization_id], env);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /already registered/);

    gateway.kill('SIGTERM');
    assert.equal((await gateway.exited).code, 0);
    assert.equal(
      await organizationCount(dataDir),
      1,
      'only Acme: no sandbox next to an existing organization',
    );
  });

  test('serve with PORT=abc exits non-zero naming PORT and quoting the value', async () => {
    const dataDir = tempDir();
    const res = await runCli(['serve'], { DATA_DIR: dataDir, PORT: 'abc', HOST: '127.0.0.1', ROLES: 'api' });
    assert.notEqual(res.code, 0);
    assert.notEqual(res.code, null);
    assert.match(res.stderr, /PORT="abc": expected a number/, 'quotes what was typed');
    assert.doesNotMatch(res.stderr, /NaN/);
    assert.doesNotMatch(res.stdout, /Server listening/);
  });
});
