import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import {
  makeTempDir,
  startTestGateway,
  TEST_STORE,
  type TestGateway,
  testDatabaseUrl,
} from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/** /metrics, /livez and /readyz as an operator's Prometheus and orchestrator read them. */

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** The sum of a metric's samples whose labels include every `labels` pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function metrics(gw: TestGateway): Promise<string> {
  const res = await fetch(`${gw.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  return res.text();
}

async function send(gw: TestGateway, to: string[]): Promise<string> {
  const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      from: gw.numbers[0],
      to,
      text: 'metrics',
      webhook_url: 'http://127.0.0.1:9/none',
    }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: { id: string } }).data.id;
}

describe('metrics', () => {
  test('counters move after sends: accepted, transitions, webhook attempts, carrier submits, HTTP latency, queue depth', async () => {
    const gw = await startTestGateway({
      env: {
        ROLES: 'api,worker',
        SIMULATOR_REPORT_DELAY_MS: '20',
        WORKER_POLL_MS: '20',
        RETRY_SCALE: '0.001',
      },
    });
    cleanups.push(() => gw.close());
    const before = await metrics(gw);
    await send(gw, ['+13125550100', '+13125550110']);
    await send(gw, ['+13125550100']);
    const afterSends = await waitFor(async () => {
      const text = await metrics(gw);
      return sample(text, 'mms_gateway_recipient_status_transitions_total', { status: 'delivered' }) -
        sample(before, 'mms_gateway_recipient_status_transitions_total', { status: 'delivered' }) >=
        3 &&
        sample(text, 'mms_gateway_webhook_attempts_total') >
          sample(before, 'mms_gateway_webhook_attempts_total')
        ? text
        : null;
    });
    const delta = (name: string, labels?: Record<string, string>) =>
      sample(afterSends, name, labels) - sample(before, name, labels);
    assert.equal(delta('mms_gateway_accepted_messages_total'), 2);
    assert.ok(delta('mms_gateway_recipient_status_transitions_total', { status: 'sent' }) >= 3);
    assert.ok(delta('mms_gateway_carrier_submit_seconds_count', { connector: 'simulator' }) >= 2);
    assert.ok(
      delta('mms_gateway_http_request_seconds_count', {
        route: '/v2/messages/group_mms',
        status_code: '200',
      }) >= 2,
    );
    assert.ok(delta('mms_gateway_webhook_attempt_seconds_count') >= 1);
    // The webhook URL answers nothing: its events wait in the queue.
    assert.ok(sample(afterSends, 'mms_gateway_queue_depth', { queue: 'webhook.deliver', state: 'all' }) >= 1);
    assert.match(afterSends, /mms_gateway_queue_oldest_due_seconds/);
  });

  test('/livez answers; /readyz checks the database, migrations and workers', async () => {
    const gw = await startTestGateway({ env: { ROLES: 'api,worker' } });
    cleanups.push(() => gw.close());
    assert.equal((await fetch(`${gw.url}/livez`)).status, 200);
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 'ready',
      checks: { database: 'ok', migrations: 'ok', workers: 'ok' },
    });
  });

  test('/readyz fails while the database is unreachable and recovers after', {
    skip: TEST_STORE !== 'postgres' && 'SQLite is a file in the process: it cannot become unreachable',
  }, async () => {
    const dataDir = makeTempDir();
    const target = new URL((await testDatabaseUrl(dataDir))!);
    // A TCP proxy in front of PostgreSQL, closed and reopened on the same port to cut the database off.
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    const listen = (port: number) => new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
    await listen(0);
    const port = (proxy.address() as net.AddressInfo).port;
    const viaProxy = new URL(target);
    viaProxy.port = String(port);
    const gw = await startTestGateway({ dataDir, env: { ROLES: 'api', DATABASE_URL: viaProxy.toString() } });
    cleanups.push(async () => {
      await gw.close();
      proxy.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);

    await new Promise<void>((r) => {
      proxy.close(() => r());
      for (const s of sockets) s.destroy();
    });
    const down = await waitFor(async () => {
      const res = await fetch(`${gw.url}/readyz`);
      return res.status === 503 && ((await res.json()) as { checks: { database: string } });
    });
    assert.match(down.checks.database, /^unreachable/);
    assert.equal((await fetch(`${gw.url}/livez`)).status, 200, 'alive while not ready');

    await listen(port);
    await waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 200, {
      description: 'ready again',
    });
  });
});
