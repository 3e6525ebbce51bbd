import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { makeTempDir, openTestStore, runCli, seedSandbox } from '../support/gateway.ts';

/** `chaos add|list|clear` against a real store: the rules every node of that store applies. */

let dataDir: string;
let env: Record<string, string>;
let profileId: string;

before(async () => {
  dataDir = makeTempDir();
  env = { DATA_DIR: dataDir, BOOTSTRAP: 'false', LOG_LEVEL: 'silent', CHAOS_SEED: 'cli-seed' };
  profileId = (await seedSandbox(dataDir)).profileId;
});

after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface ListedRule {
  id: string;
  kind: string;
  match: Record<string, string>;
  remaining: number | null;
  probability: number | null;
  status?: number;
  seed: string;
  scope: string;
  source: string;
}

test('chaos add (options or compact form), list and clear; a bad rule or a real carrier is refused', async () => {
  const a = await runCli(['chaos', 'add', 'webhook.fail', '--count', '2', '--status', '503', '--json'], env);
  assert.equal(a.code, 0, a.stderr);
  const first = (JSON.parse(a.stdout) as { rule: ListedRule }).rule;
  assert.equal(first.remaining, 2);
  assert.equal(first.seed, 'cli-seed', 'CHAOS_SEED seeds rules made without a seed');

  const b = await runCli(
    ['chaos', 'add', 'webhook.delay:p=0.5,min_ms=10,max_ms=30', '--to', '+13125550100'],
    env,
  );
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /^added \S+ webhook\.delay p=0\.5 to=\+13125550100 min_ms=10 max_ms=30/);

  const c = await runCli(['chaos', 'add', 'carrier.report_drop', '--profile', profileId], env);
  assert.equal(c.code, 0, c.stderr);

  const listed = await runCli(['chaos', 'list', '--json'], env);
  assert.equal(listed.code, 0, listed.stderr);
  const rules = (JSON.parse(listed.stdout) as { rules: ListedRule[] }).rules;
  assert.deepEqual(
    rules.map((r) => [r.kind, r.remaining, r.probability, r.match, r.scope, r.source]),
    [
      ['webhook.fail', 2, null, {}, 'all_organizations', 'cli'],
      ['webhook.delay', null, 0.5, { to: '+13125550100' }, 'all_organizations', 'cli'],
      ['carrier.report_drop', null, 1, { profile: profileId }, 'all_organizations', 'cli'],
    ],
  );

  const bad = await runCli(['chaos', 'add', 'webhook.delay'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: chaos rule webhook\.delay max_ms: a delay needs max_ms/);

  // Route the profile to an MM7 connector: a rule naming it is refused.
  const store = await openTestStore(dataDir);
  try {
    const now = new Date().toISOString();
    await store.connectors.add({
      name: 'mmsc',
      type: 'mm7',
      settings: { url: 'http://127.0.0.1:9/mm7', vaspId: 'V', vasId: 'G' },
      created_at: now,
      updated_at: now,
    });
    await store.routes.set({ messaging_profile_id: profileId, connectors: ['mmsc'], updated_at: now });
  } finally {
    await store.close();
  }
  const refused = await runCli(['chaos', 'add', 'webhook.fail', '--profile', profileId], env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /chaos is refused for profile .*\(mmsc\) is not the simulator/);

  const one = await runCli(['chaos', 'clear', '--id', first.id, '--json'], env);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout), { deleted: 1 });
  const rest = await runCli(['chaos', 'clear'], env);
  assert.equal(rest.stdout, 'removed 2 chaos rule(s)\n');
  const empty = await runCli(['chaos', 'list'], env);
  assert.equal(empty.stdout, 'no chaos rules\n');
});
