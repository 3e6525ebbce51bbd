import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { makeTempDir, runCli, seedSandbox } from '../support/gateway.ts';

/** `limits` and `connectors add --max-per-second` against a real store. */

let dataDir: string;
let env: Record<string, string>;
let profileId: string;

before(async () => {
  dataDir = makeTempDir();
  env = { DATA_DIR: dataDir, BOOTSTRAP: 'false', LOG_LEVEL: 'silent' };
  profileId = (await seedSandbox(dataDir)).profileId;
});

after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, env);

test('limits set/list/clear for a number and a profile; bad values are refused by name', async () => {
  assert.equal((await cli('limits', 'set', '--number', '+13125550100', '--per-second', '1')).code, 0);
  const set = await cli('limits', 'set', '--profile', profileId, '--per-second', '0.5', '--json');
  assert.equal(set.code, 0, set.stderr);
  const listed = await cli('limits', 'list', '--json');
  assert.deepEqual(
    (JSON.parse(listed.stdout) as { limits: Array<{ subject: string; max_per_second: number }> }).limits.map(
      (l) => [l.subject, l.max_per_second],
    ),
    [
      ['number:+13125550100', 1],
      [`profile:${profileId}`, 0.5],
    ],
  );
  assert.equal((await cli('limits', 'clear', '--number', '+13125550100')).code, 0);
  const after = JSON.parse((await cli('limits', 'list', '--json')).stdout) as { limits: unknown[] };
  assert.equal(after.limits.length, 1);

  const zero = await cli('limits', 'set', '--number', '+13125550100', '--per-second', '0');
  assert.notEqual(zero.code, 0);
  assert.match(zero.stderr, /--per-second/);
  const both = await cli(
    'limits',
    'set',
    '--number',
    '+13125550100',
    '--profile',
    profileId,
    '--per-second',
    '1',
  );
  assert.match(both.stderr, /exactly one of --number and --profile/);
  const unknown = await cli(
    'limits',
    'set',
    '--profile',
    '00000000-0000-4000-8000-000000000000',
    '--per-second',
    '1',
  );
  assert.match(unknown.stderr, /no messaging profile/);
});

test('connectors add takes --max-per-second for any type and checks it', async () => {
  const added = await cli(
    'connectors',
    'add',
    'sim-slow',
    '--type',
    'simulator',
    '--max-per-second',
    '2.5',
    '--json',
  );
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual((JSON.parse(added.stdout) as { connector: { settings: unknown } }).connector.settings, {
    maxPerSecond: 2.5,
  });
  const bad = await cli('connectors', 'add', 'sim-bad', '--type', 'simulator', '--max-per-second', 'fast');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /maxPerSecond: must be a number/);
});
