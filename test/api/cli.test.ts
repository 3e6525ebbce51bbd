import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  makeTempDir,
  REPO_ROOT,
  runCli,
  type SpawnedGateway,
  spawnCli,
  spawnGateway,
  testStoreEnv,
} from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/** The operator CLI against a running sandbox gateway (send, messages, tail) and its store (lists). */

let gw: SpawnedGateway;
let dataDir: string;
let org: string;
let env: Record<string, string>;

before(async () => {
  dataDir = makeTempDir();
  gw = await spawnGateway({
    dataDir,
    env: { ROLES: 'api,worker', SIMULATOR_REPORT_DELAY_MS: '20', WORKER_POLL_MS: '20', LOG_LEVEL: 'warn' },
  });
  org = /^ {2}Organization: +(\S+)$/m.exec(gw.stdout())![1]!;
  env = { DATA_DIR: dataDir, KEY: gw.apiKey! };
});
after(async () => {
  gw.kill();
  await gw.exited;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const res = await runCli(args, env);
  assert.equal(res.code, 0, `mms-gateway ${args.join(' ')}: ${res.stderr}`);
  return res;
}

describe('operator CLI', () => {
  test('--version prints the package version; every command has a description', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.equal((await cli('--version')).stdout.trim(), version);
    for (const group of ['orgs', 'keys', 'numbers', 'profiles', 'messages']) {
      const help = (await cli(group, '--help')).stdout;
      const commands = help
        .slice(help.indexOf('Commands:'))
        .split('\n')
        .slice(1)
        .filter((l) => /^ {2}\S/.test(l));
      assert.ok(commands.length > 0);
      for (const line of commands) {
        if (line.trim().startsWith('help')) continue;
        assert.match(line, /^ {2}\S.*\s{2,}\S/, `${group}: no description in "${line}"`);
      }
    }
  });

  test('orgs list, keys list (no secrets), numbers list, profiles create and list', async () => {
    const orgs = JSON.parse((await cli('orgs', 'list', '--json')).stdout);
    assert.deepEqual(
      orgs.organizations.map((o: { id: string }) => o.id),
      [org],
    );
    const keys = await cli('keys', 'list', '--org', org, '--json');
    assert.equal(JSON.parse(keys.stdout).keys.length, 1);
    assert.ok(!keys.stdout.includes(gw.apiKey!) && !keys.stdout.includes('key_hash'));
    const numbers = JSON.parse((await cli('numbers', 'list', '--org', org, '--json')).stdout);
    assert.deepEqual(
      numbers.numbers.map((n: { phone_number: string }) => n.phone_number),
      ['+13125550001', '+13125550002', '+13125550003'],
    );
    const created = JSON.parse(
      (await cli('profiles', 'create', '--org', org, '--name', 'US only', '--whitelist', 'US', '--json'))
        .stdout,
    );
    const listed = JSON.parse((await cli('profiles', 'list', '--org', org, '--json')).stdout);
    const mine = listed.profiles.find((p: { id: string }) => p.id === created.id);
    assert.deepEqual(mine.whitelisted_destinations, ['US']);
    assert.equal(listed.profiles.length, 2);
    const bad = await runCli(['profiles', 'create', '--org', 'nope', '--name', 'x'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: no organization nope/);
  });

  test("send --wait prints each recipient's final status; messages get reads it back", async () => {
    const res = await runCli(
      [
        'send',
        '--url',
        gw.url,
        '--from',
        '+13125550001',
        '--to',
        '+13125550100',
        '+13125550101',
        '--text',
        'hi',
        '--wait',
        '--json',
      ],
      env,
    );
    const message = JSON.parse(res.stdout);
    const status = Object.fromEntries(
      message.to.map((r: { phone_number: string; status: string }) => [r.phone_number, r.status]),
    );
    assert.deepEqual(status, { '+13125550100': 'delivered', '+13125550101': 'delivery_failed' });
    assert.equal(res.code, 2, 'not every recipient delivered');
    const got = await cli('messages', 'get', message.id, '--url', gw.url);
    assert.match(got.stdout, /\+13125550101\s+delivery_failed/);
  });

  test('send --csv: 100 rows, a progress bar on stderr and a summary', async () => {
    const csv = path.join(dataDir, 'batch.csv');
    const rows = Array.from(
      { length: 100 },
      (_, i) => `+13125550001,+1312555${String(2000 + i)};+13125550100,"row ${i}, quoted"`,
    );
    fs.writeFileSync(csv, `from,to,text\n${rows.join('\n')}\n`);
    const res = await cli('send', '--url', gw.url, '--csv', csv);
    assert.match(res.stderr, /\[#{30}\] 100\/100/);
    assert.match(res.stderr, /\[-{30}\] 0\/100/);
    assert.equal(res.stdout.trim(), '100 of 100 rows accepted, 0 failed');
  });

  test('tail --json follows the events of a send made meanwhile', async () => {
    const child = spawnCli(['tail', '--json', '--number', '+13125550002'], {
      ...(await testStoreEnv(dataDir)),
      ...env,
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      // A CLI process starts slowly on a loaded machine.
      await waitFor(() => err.includes('following'), {
        timeoutMs: 120_000,
        description: `tail started: ${err}`,
      });
      const sent = JSON.parse(
        (
          await cli(
            'send',
            '--url',
            gw.url,
            '--from',
            '+13125550002',
            '--to',
            '+13125550100',
            '--text',
            'hi',
            '--json',
          )
        ).stdout,
      );
      const events = await waitFor(
        () => {
          const lines = out
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l));
          return lines.some((e) => e.event_type === 'message.finalized') && lines;
        },
        { timeoutMs: 60_000 },
      );
      assert.ok(
        events.every((e: { message_id: string }) => e.message_id === sent.id),
        'the filter keeps only this number',
      );
      assert.ok(
        events.some(
          (e: { event_type: string; status: string }) =>
            e.event_type === 'message.finalized' && e.status === 'delivered',
        ),
      );
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('close', r));
    }
  });
});
