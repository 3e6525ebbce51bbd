import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Telnyx from 'telnyx';
import { makeTempDir, REPO_ROOT, type SpawnedGateway, spawnGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The first ten minutes: a sandbox started as `npm start` starts it, its banner read by a person
 * (plain lines whatever the log level, the key never in the log stream), its curl line pasted into a
 * shell, and the README's SDK example run as written with a webhook receiver on loopback.
 */

const run = promisify(execFile);
const FINAL = new Set(['delivered', 'delivery_failed', 'delivery_unconfirmed', 'sending_failed', 'expired']);

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function startSandbox(env: Record<string, string> = {}): Promise<SpawnedGateway> {
  const dataDir = makeTempDir();
  const gw = await spawnGateway({
    dataDir,
    env: { ROLES: 'api,worker', SIMULATOR_REPORT_DELAY_MS: '20', WORKER_POLL_MS: '20', ...env },
  });
  cleanups.push(async () => {
    gw.kill();
    await gw.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return gw;
}

/** Lines of stdout that are log records (JSON), as opposed to the banner's plain lines. */
function logLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('{'));
}

async function finalStatuses(url: string, key: string, id: string): Promise<string[]> {
  return waitFor(
    async () => {
      const res = await fetch(`${url}/v2/messages/${id}`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { data: { to: Array<{ status: string }> } };
      const statuses = body.data.to.map((t) => t.status);
      return statuses.every((s) => FINAL.has(s)) && statuses;
    },
    { description: `every recipient of ${id} final` },
  );
}

describe('sandbox banner', () => {
  test('plain lines with org id, key, numbers and export; the pasted curl line gets every recipient delivered', async () => {
    const gw = await startSandbox();
    const out = gw.stdout();
    const key = gw.apiKey;
    assert.ok(key);
    assert.match(out, /^ {2}Organization: +[0-9a-f-]{36}$/m);
    assert.match(out, /^ {2}Sender numbers: \+13125550001, \+13125550002, \+13125550003$/m);
    assert.ok(out.includes(`\nexport KEY=${key}\n`), 'an export line for the SDK example');
    assert.match(out, /loopback/);
    for (const line of logLines(out)) assert.ok(!line.includes(key), `key in a log line: ${line}`);

    const curl = out.split('\n').find((l) => l.startsWith('curl '));
    assert.ok(curl, 'a curl line of its own');
    assert.ok(curl.includes(gw.url));
    const { stdout } = await run('bash', ['-c', curl]);
    const sent = JSON.parse(stdout) as { data: { id: string; to: Array<{ phone_number: string }> } };
    assert.ok(sent.data.to.length >= 2, 'a group');
    assert.deepEqual(
      await finalStatuses(gw.url, key, sent.data.id),
      sent.data.to.map(() => 'delivered'),
    );
  });

  test('LOG_LEVEL=warn still shows the key and the curl line, and no log line carries the key', async () => {
    const gw = await startSandbox({ LOG_LEVEL: 'warn' });
    const key = gw.apiKey;
    assert.ok(key, 'banner printed at warn');
    assert.ok(
      gw
        .stdout()
        .split('\n')
        .some((l) => l.startsWith('curl ') && l.includes(key)),
    );
    for (const line of logLines(gw.stdout())) assert.ok(!line.includes(key));
    assert.ok(!gw.stderr().includes(key));
  });
});

describe("the README's SDK example", () => {
  test('runs as written against a sandbox gateway and its webhooks verify with the SDK', async () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const example = /```ts\n(import Telnyx from 'telnyx';\n[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'the README has the SDK example');
    assert.ok(
      example.includes("'http://127.0.0.1:3000/v2'") && example.includes("'http://127.0.0.1:4000/hooks'"),
    );

    const receiver = await startWebhookReceiver({ keepRequests: true, path: '/hooks' });
    cleanups.push(() => receiver.close());
    const gw = await startSandbox();
    // Only the two ports change: the test machine runs many gateways at once.
    const code = example
      .replace("import Telnyx from 'telnyx';\n", '')
      .replace('http://127.0.0.1:3000/v2', `${gw.url}/v2`)
      .replace('http://127.0.0.1:4000/hooks', receiver.url);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<{ id: string; to: unknown[] }>;
    const data = await new AsyncFunction('Telnyx', 'process', `${code}\nreturn data;`)(Telnyx, {
      env: { KEY: gw.apiKey },
    });
    assert.equal(data.to.length, 2);

    const publicKey = (
      (await (
        await fetch(`${gw.url}/v2/public_key`, { headers: { authorization: `Bearer ${gw.apiKey}` } })
      ).json()) as { data: { public_key: string } }
    ).data.public_key;
    // message.sent and message.finalized for each of the two recipients.
    const requests = await waitFor(() => receiver.received.length >= 4 && receiver.received);
    const client = new Telnyx({ apiKey: 'x' });
    for (const request of requests) {
      const event = (await client.webhooks.unwrap(request.rawBody, {
        headers: request.headers,
        key: publicKey,
      })) as {
        data: { payload: { group_message_id: string } };
      };
      assert.equal(event.data.payload.group_message_id, data.id);
    }
  });
});

describe('production mode (SANDBOX=false)', () => {
  test('a loopback webhook URL is refused, logged at warn with the reason, and the refusal shows on the message', async () => {
    const receiver = await startWebhookReceiver({ keepRequests: true });
    cleanups.push(() => receiver.close());
    const gw = await startSandbox({ SANDBOX: 'false' });
    const key = gw.apiKey!;
    const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: '+13125550001',
        to: ['+13125550100'],
        text: 'x',
        webhook_url: receiver.url,
      }),
    });
    const { data } = (await res.json()) as { data: { id: string } };
    const warning = await waitFor(() =>
      logLines(gw.stdout())
        .map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string; url?: string })
        .find((l) => l.msg === 'webhook URL retired'),
    );
    assert.equal(warning.level, 40, 'warn');
    assert.equal(warning.url, receiver.url);
    assert.match(warning.reason ?? '', /refused|not allowed/);
    // The warning is logged as the attempt is made; the attempt is stored when the job completes.
    const attempt = await waitFor(async () => {
      const deliveries = (await (
        await fetch(`${gw.url}/v2/messages/${data.id}/webhook_deliveries`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json()) as { data: Array<{ attempts: Array<{ error: string | null }> }> };
      return deliveries.data.flatMap((d) => d.attempts)[0];
    });
    assert.match(attempt.error ?? '', /refused|not allowed/);
    // The sandbox's extensions are not served: no handsets, no chaos rules.
    for (const path of ['/v2/simulator/chaos/rules', '/v2/simulator/messages/latest?to=%2B13125550001']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 404, path);
    }
    assert.equal(receiver.received.length, 0);
  });
});
