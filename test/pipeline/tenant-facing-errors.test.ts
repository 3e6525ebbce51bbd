import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { freePort } from '../support/free-port.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  getDeliveries,
  sendGroupMms,
  startPipelineGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Issue 14: tenants learned about the operator's network. Refused media said "Outbound connection to
 * vm (127.0.0.1) refused", webhook attempts said "ECONNREFUSED 127.0.0.1:18099", and with an
 * allow-list the first 1 KB of an internal service's reply showed in the deliveries view. Now the
 * tenant sees the kind of failure only, the operator's log has the detail, and an internal reply is
 * shown only in a sandbox or when the operator opts in.
 */

interface Logged {
  level: number;
  msg: string;
  cause?: string;
}

type Started = TestGateway & { logs: Logged[] };
const started: Started[] = [];
const receivers: WebhookReceiver[] = [];

after(async () => {
  for (const gw of started) await gw.close();
  for (const r of receivers) await r.close();
});

async function start(env: Record<string, string>): Promise<Started> {
  const logs: Logged[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const gw = await startPipelineGateway({
    env: { LOG_LEVEL: 'info', ...env },
    logger: pino({ level: 'info' }, sink),
  });
  const withLogs = Object.assign(gw, { logs });
  started.push(withLogs);
  return withLogs;
}

/** Sends a message whose only webhook URL is an internal service, and returns the first attempts. */
async function sendToInternalService(gw: TestGateway) {
  const internal = await startWebhookReceiver({
    respond: { status: 200, body: 'internal build 4.2, db=10.0.3.7' },
  });
  receivers.push(internal);
  const message = await sendGroupMms(gw, {
    to: ['+13125550100'],
    text: 'hi',
    webhook_url: internal.url,
    use_profile_webhooks: false,
  });
  return firstAttempts(gw, message.id);
}

async function firstAttempts(gw: TestGateway, id: string) {
  return waitFor(async () => {
    const deliveries = await getDeliveries(gw, id);
    const attempts = deliveries.flatMap((d) => d.attempts);
    return attempts.length > 0 ? attempts : null;
  });
}

describe('production (SANDBOX=false), allow-list 127.0.0.0/8', () => {
  test('a refused webhook connection shows "connection refused", no address or port', async () => {
    const gw = await start({ SANDBOX: 'false' });
    const port = await freePort();
    const message = await sendGroupMms(gw, {
      to: ['+13125550100'],
      text: 'hi',
      webhook_url: `http://127.0.0.1:${port}/hook`,
      use_profile_webhooks: false,
    });
    const attempts = await firstAttempts(gw, message.id);
    assert.equal(attempts[0]!.error, 'connection refused');
    for (const a of attempts) {
      assert.doesNotMatch(a.error ?? '', /127\.0\.0\.1|:\d{2,5}\b/);
    }
    // The operator's log has the whole story.
    const logged = await waitFor(() => gw.logs.find((l) => l.msg === 'webhook attempt failed'));
    assert.match(logged.cause ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  test("an internal service's reply is not shown to the tenant", async () => {
    const gw = started[0] ?? (await start({ SANDBOX: 'false' }));
    const attempts = await sendToInternalService(gw);
    assert.equal(attempts[0]!.outcome, 'delivered');
    assert.equal(attempts[0]!.status_code, 200);
    assert.equal(attempts[0]!.response_body, null);
  });

  test('unless the operator opts in (SHOW_ALLOWLISTED_RESPONSE_BODIES=true)', async () => {
    const gw = await start({ SANDBOX: 'false', SHOW_ALLOWLISTED_RESPONSE_BODIES: 'true' });
    const attempts = await sendToInternalService(gw);
    assert.equal(attempts[0]!.response_body, 'internal build 4.2, db=10.0.3.7');
  });
});

test('in a sandbox (the default with BOOTSTRAP) the developer is the operator: the reply is shown', async () => {
  const gw = await start({});
  const attempts = await sendToInternalService(gw);
  assert.equal(attempts[0]!.response_body, 'internal build 4.2, db=10.0.3.7');
});

test('without an allow-list: refused media and webhooks say "destination not allowed", not the address', async () => {
  // Production: a sandbox would admit loopback destinations.
  const gw = await start({ OUTBOUND_ALLOW_CIDRS: '', SANDBOX: 'false' });
  const server = http.createServer((_req, res) => res.end('x'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const message = await sendGroupMms(gw, {
      to: ['+13125550100'],
      text: 'hi',
      media_urls: [`http://localhost:${port}/pic.png`],
      webhook_url: `http://localhost:${port}/hook`,
      use_profile_webhooks: false,
    });
    const final = await waitForFinal(gw, message.id);
    assert.equal(final.to[0]!.status, 'sending_failed');
    const detail = final.errors.map((e) => e.detail).join(' ');
    assert.match(detail, /destination not allowed/);
    assert.doesNotMatch(detail, /127\.0\.0\.1|::1/);

    const attempts = await firstAttempts(gw, message.id);
    assert.equal(attempts[0]!.error, 'destination not allowed');

    const refused = await waitFor(() => gw.logs.find((l) => l.msg === 'media refused'));
    assert.match(refused.cause ?? '', /127\.0\.0\.1|::1/);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
