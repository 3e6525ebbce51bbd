import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { makeTempDir, openTestStore, runCli, seedSandbox, spawnCli } from '../support/gateway.ts';

/** `connectors add --type bandwidth` (secrets never printed) and the `bandwidth-emulator` command. */

const CLIENT_SECRET = 'cs-Hk2#never-shown';
const CALLBACK_SECRET = 'cb-Lm4!never-shown';

let dataDir: string;
let env: Record<string, string>;

before(async () => {
  dataDir = makeTempDir();
  env = { DATA_DIR: dataDir, BOOTSTRAP: 'false', LOG_LEVEL: 'silent' };
  await seedSandbox(dataDir);
});

after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const cli = async (...args: string[]) => {
  const res = await runCli(args, env);
  for (const out of [res.stdout, res.stderr]) {
    assert.ok(!out.includes(CLIENT_SECRET) && !out.includes(CALLBACK_SECRET), `a secret was printed: ${out}`);
  }
  return res;
};

test('connectors add --type bandwidth stores the settings with Bandwidth defaults and never prints a secret', async () => {
  const added = await cli(
    ...['connectors', 'add', 'bw', '--type', 'bandwidth', '--account-id', '9900000'],
    ...['--application-id', 'app-1', '--client-id', 'client-1', '--client-secret', CLIENT_SECRET],
    ...['--callback-username', 'bandwidth', '--callback-password', CALLBACK_SECRET, '--json'],
  );
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual((JSON.parse(added.stdout) as { connector: { settings: unknown } }).connector.settings, {
    accountId: '9900000',
    applicationId: 'app-1',
    clientId: 'client-1',
    clientSecretSet: true,
    baseUrl: 'https://messaging.bandwidth.com/api/v2',
    tokenUrl: 'https://api.bandwidth.com/api/v1/oauth2/token',
    callbackUsername: 'bandwidth',
    callbackPasswordSet: true,
  });
  const store = await openTestStore(dataDir);
  try {
    const stored = await store.connectors.get('bw');
    assert.equal(stored?.settings.clientSecret, CLIENT_SECRET);
    assert.equal(stored?.settings.callbackPassword, CALLBACK_SECRET);
  } finally {
    await store.close();
  }
  const human = await cli('connectors', 'list');
  assert.match(human.stdout, /bw \(bandwidth\) accountId=9900000 .*clientSecretSet=true/);

  const own = await cli(
    ...['connectors', 'add', 'bw-2', '--type', 'bandwidth', '--account-id', '9900000'],
    ...['--application-id', 'app-1', '--client-id', 'client-1', '--client-secret', CLIENT_SECRET],
    ...[
      '--base-url',
      'http://127.0.0.1:3200/api/v2/',
      '--token-url',
      'http://127.0.0.1:3200/api/v1/oauth2/token',
    ],
    '--json',
  );
  assert.equal(own.code, 0, own.stderr);
  const settings = (JSON.parse(own.stdout) as { connector: { settings: Record<string, unknown> } }).connector
    .settings;
  assert.equal(settings.baseUrl, 'http://127.0.0.1:3200/api/v2', 'trailing slash dropped');

  const bad = await cli(
    ...['connectors', 'add', 'bw-3', '--type', 'bandwidth', '--account-id', '9900000'],
    ...[
      '--client-secret',
      CLIENT_SECRET,
      '--callback-password',
      CALLBACK_SECRET,
      '--token-url',
      `ftp://${CLIENT_SECRET}`,
    ],
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /applicationId/);
  assert.match(bad.stderr, /clientId/);
  assert.match(bad.stderr, /tokenUrl: must be an http/);
  const half = await cli(
    ...['connectors', 'add', 'bw-3', '--type', 'bandwidth', '--account-id', '9900000'],
    ...['--application-id', 'app-1', '--client-id', 'client-1', '--client-secret', CLIENT_SECRET],
    ...['--callback-password', CALLBACK_SECRET],
  );
  assert.equal(half.code, 1);
  assert.match(half.stderr, /callback username and callback password go together/);
});

test('bandwidth-emulator listens and prints the URLs to give the connector', async () => {
  const child = spawnCli(['bandwidth-emulator', '--port', '0', '--client-secret', 'emu-secret', '--json'], {
    LOG_LEVEL: 'silent',
  });
  try {
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', () => {
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const urls = JSON.parse(line) as { base_url: string; token_url: string; control_url: string };
    assert.match(urls.base_url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v2$/);
    const token = await fetch(urls.token_url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('emulator-client:emu-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    assert.equal(token.status, 200);
    const seen = (await (await fetch(`${urls.control_url}/tokens`)).json()) as { requests: number };
    assert.equal(seen.requests, 1);
  } finally {
    child.kill('SIGTERM');
  }
});
