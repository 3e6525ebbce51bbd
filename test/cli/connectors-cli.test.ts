import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { makeTempDir, openTestStore, runCli, seedSandbox } from '../support/gateway.ts';

/** `connectors` and `routes` commands against a real store; secrets never come back out. */

const SECRET = 'pw-Xq8#never-shown';
const INBOUND_SECRET = 'in-Zr5!never-shown';

let dataDir: string;
let env: Record<string, string>;
let profileId: string;

before(async () => {
  dataDir = makeTempDir();
  env = { DATA_DIR: dataDir, BOOTSTRAP: 'false', LOG_LEVEL: 'silent' };
  profileId = (await seedSandbox(dataDir)).profileId;
});

after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const cli = async (...args: string[]) => {
  const res = await runCli(args, env);
  for (const out of [res.stdout, res.stderr]) {
    assert.ok(!out.includes(SECRET) && !out.includes(INBOUND_SECRET), `a secret was printed: ${out}`);
  }
  return res;
};

test('connectors add/list/remove and routes set, every command with --json, no secret ever printed', async () => {
  const listed0 = await cli('connectors', 'list', '--json');
  assert.equal(listed0.code, 0, listed0.stderr);
  assert.deepEqual(
    (JSON.parse(listed0.stdout) as { connectors: Array<{ name: string; type: string }> }).connectors.map(
      (c) => [c.name, c.type],
    ),
    [['simulator', 'simulator']],
    'the simulator is there by default',
  );

  const added = await cli(
    ...['connectors', 'add', 'carrier-a', '--type', 'mm7', '--url', 'http://127.0.0.1:9/mm7'],
    ...['--vasp-id', 'VASP1', '--vas-id', 'VAS1', '--service-code', 'SC1'],
    ...['--username', 'gw', '--password', SECRET, '--inbound-username', 'mmsc'],
    ...['--inbound-password', INBOUND_SECRET, '--mm7-version', 'REL-5-MM7-1-2', '--json'],
  );
  assert.equal(added.code, 0, added.stderr);
  const connector = (JSON.parse(added.stdout) as { connector: { settings: Record<string, unknown> } })
    .connector;
  assert.deepEqual(connector.settings, {
    url: 'http://127.0.0.1:9/mm7',
    vaspId: 'VASP1',
    vasId: 'VAS1',
    serviceCode: 'SC1',
    username: 'gw',
    passwordSet: true,
    inboundUsername: 'mmsc',
    inboundPasswordSet: true,
    mm7Version: 'REL-5-MM7-1-2',
    defaultCountry: 'US',
  });

  // Stored with its secrets (the connector needs them), shown without.
  const store = await openTestStore(dataDir);
  try {
    const stored = await store.connectors.get('carrier-a');
    assert.equal(stored?.settings.password, SECRET);
    assert.equal(stored?.settings.inboundPassword, INBOUND_SECRET);
  } finally {
    await store.close();
  }
  const human = await cli('connectors', 'list');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /carrier-a \(mm7\) url=http:\/\/127\.0\.0\.1:9\/mm7 .*passwordSet=true/);

  const duplicate = await cli('connectors', 'add', 'carrier-a', '--type', 'simulator', '--json');
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /exists already/);

  // Bad input is refused naming the setting, never echoing a value (which may be a secret).
  const bad = await cli(
    ...['connectors', 'add', 'carrier-b', '--type', 'mm7', '--url', `ftp://${SECRET}`],
    ...['--password', INBOUND_SECRET],
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /url: must be an http/);
  assert.match(bad.stderr, /username and password go together/);
  await cli('connectors', 'add', 'sim-b', '--type', 'simulator');
  const unknown = await cli('routes', 'set', '--profile', profileId, '--connectors', 'carrier-a,nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no connector named nope/);
  const routed = await cli(
    'routes',
    'set',
    '--profile',
    profileId,
    '--connectors',
    'carrier-a,sim-b',
    '--json',
  );
  assert.equal(routed.code, 0, routed.stderr);
  assert.deepEqual((JSON.parse(routed.stdout) as { route: { connectors: string[] } }).route.connectors, [
    'carrier-a',
    'sim-b',
  ]);
  const routes = JSON.parse((await cli('routes', 'list', '--json')).stdout) as {
    routes: Array<{ messaging_profile_id: string; connectors: string[] }>;
    default_connector: string;
  };
  assert.deepEqual(
    routes.routes.map((r) => [r.messaging_profile_id, r.connectors]),
    [[profileId, ['carrier-a', 'sim-b']]],
  );
  assert.equal(routes.default_connector, 'simulator');

  const inUse = await cli('connectors', 'remove', 'carrier-a', '--json');
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /in the route of profile/);
  const isDefault = await cli('connectors', 'remove', 'simulator');
  assert.equal(isDefault.code, 1);
  assert.match(isDefault.stderr, /default connector/);

  await cli('routes', 'set', '--profile', profileId, '--connectors', 'sim-b');
  const removed = await cli('connectors', 'remove', 'carrier-a', '--json');
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(JSON.parse(removed.stdout), { removed: 'carrier-a' });
  const listed = JSON.parse((await cli('connectors', 'list', '--json')).stdout) as {
    connectors: Array<{ name: string }>;
  };
  assert.deepEqual(
    listed.connectors.map((c) => c.name),
    ['sim-b', 'simulator'],
  );
});
