import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { makeTempDir, openTestStore, runCli, seedSandbox } from '../support/gateway.ts';

/** `connectors add --type telnyx`: PUBLIC_URL is required up front, the API key never printed. */

const API_KEY = 'KEY-upstream-never-shown';
const PUBLIC_KEY = Buffer.alloc(32, 9).toString('base64');

let dataDir: string;

before(async () => {
  dataDir = makeTempDir();
  await seedSandbox(dataDir);
});

after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const add = (env: Record<string, string>) =>
  runCli(
    [
      'connectors',
      'add',
      'up',
      '--type',
      'telnyx',
      '--api-key',
      API_KEY,
      '--public-key',
      PUBLIC_KEY,
      '--json',
    ],
    { DATA_DIR: dataDir, BOOTSTRAP: 'false', LOG_LEVEL: 'silent', ...env },
  );

test('without PUBLIC_URL a telnyx connector is refused, saying why; with it, added with its key hidden', async () => {
  assert.equal(process.env.PUBLIC_URL, undefined, 'the test runs without PUBLIC_URL in its environment');
  const refused = await add({});
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /PUBLIC_URL is not set/);
  const store = await openTestStore(dataDir);
  try {
    assert.equal(await store.connectors.get('up'), undefined, 'nothing stored');
  } finally {
    await store.close();
  }

  const added = await add({ PUBLIC_URL: 'https://gw.example.test' });
  assert.equal(added.code, 0, added.stderr);
  assert.ok(!added.stdout.includes(API_KEY) && !added.stderr.includes(API_KEY), 'the API key was printed');
  const shown = JSON.parse(added.stdout) as {
    connector: { type: string; settings: Record<string, unknown> };
  };
  assert.deepEqual(shown.connector, {
    ...shown.connector,
    type: 'telnyx',
    settings: { apiKeySet: true, publicKey: PUBLIC_KEY, baseUrl: 'https://api.telnyx.com/v2' },
  });
  const listed = await runCli(['connectors', 'list'], { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  assert.match(listed.stdout, /up \(telnyx\) apiKeySet=true/);
  assert.ok(!listed.stdout.includes(API_KEY));
});
