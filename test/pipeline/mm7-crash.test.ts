/**
 * Delivery reports and SIGKILL: the MMSC emulator posts every DeliveryReportReq to a gateway that is
 * killed mid-stream and restarted on the same database and port. The emulator sends again whatever
 * got no DeliveryReportRsp; each report is applied exactly once (one message.finalized event per
 * recipient), because a report is answered only after it is committed and applying one twice
 * changes nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { type MmscEmulator, startMmscEmulator } from '../../src/mmsc/emulator.ts';
import { createApiClient, groupMmsBody, waitUntil } from '../support/crash-harness.ts';
import { freePort } from '../support/free-port.ts';
import {
  makeTempDir,
  openTestStore,
  type SpawnedGateway,
  seedSandbox,
  spawnGateway,
} from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

const MESSAGES = 30;
const RECIPIENTS = 3;
const INBOUND: [string, string] = ['mmsc', 'mmsc-crash-pw-Qx81'];
const OUTBOUND: [string, string] = ['vasp', 'vasp-crash-pw-Lm27'];

test('reports posted while the gateway is SIGKILLed and restarted are each applied exactly once', {
  timeout: 240_000,
}, async () => {
  const dataDir = makeTempDir();
  const port = await freePort();
  const receiver = await startWebhookReceiver();
  const api = createApiClient({ connections: 8 });
  let mmsc: MmscEmulator | undefined;
  let gateway: SpawnedGateway | undefined;
  try {
    const sandbox = await seedSandbox(dataDir);
    mmsc = await startMmscEmulator({
      gatewayUrl: `http://127.0.0.1:${port}/mm7/mmsc`,
      gatewayUsername: INBOUND[0],
      gatewayPassword: INBOUND[1],
      username: OUTBOUND[0],
      password: OUTBOUND[1],
      reportDelayMs: 0,
      reportRetryMs: 100,
      reportRetryMaxMs: 1000,
    });
    mmsc.controlReports({ hold: true });
    const store = await openTestStore(dataDir);
    try {
      const now = new Date().toISOString();
      await store.connectors.add({
        name: 'mmsc',
        type: 'mm7',
        settings: {
          url: `${mmsc.url}/mm7`,
          username: OUTBOUND[0],
          password: OUTBOUND[1],
          inboundUsername: INBOUND[0],
          inboundPassword: INBOUND[1],
          mm7Version: 'REL-6-MM7-1-4',
          defaultCountry: 'US',
        },
        created_at: now,
        updated_at: now,
      });
      await store.routes.set({
        messaging_profile_id: sandbox.profileId,
        connectors: ['mmsc'],
        updated_at: now,
      });
    } finally {
      await store.close();
    }

    const env = {
      ROLES: 'api,worker',
      // debug: every request is logged, so the test can check that no secret ever is.
      LOG_LEVEL: 'debug',
      BOOTSTRAP: 'false',
      PORT: String(port),
      OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8',
      RETRY_SCALE: '0.01',
      JOB_LEASE_MS: '10000',
      WORKER_POLL_MS: '50',
    };
    gateway = await spawnGateway({ dataDir, env });
    const firstRun = gateway;
    for (let i = 0; i < MESSAGES; i++) {
      const sent = await api.sendGroupMms(
        gateway.url,
        sandbox.apiKey,
        groupMmsBody(i, receiver.url, sandbox.numbers),
      );
      assert.ok(sent.ok, JSON.stringify(sent));
    }
    const emulator = mmsc;
    await waitUntil(() => emulator.submissions.filter((s) => s.messageId).length === MESSAGES, {
      timeoutMs: 60_000,
      describe: () => `every group submitted (${emulator.submissions.length})`,
    });
    const total = MESSAGES * RECIPIENTS;

    // Let the reports go, and kill the gateway once it has answered some of them.
    emulator.controlReports({ hold: false });
    await waitFor(() => emulator.reports.some((r) => r.answeredAt), {
      intervalMs: 1,
      description: 'a report answered',
    });
    gateway.kill('SIGKILL');
    await gateway.exited;
    const answeredBeforeKill = emulator.reports.filter((r) => r.answeredAt).length;
    assert.ok(
      answeredBeforeKill < total,
      `the kill landed mid-stream (${answeredBeforeKill}/${total} answered)`,
    );

    gateway = await spawnGateway({ dataDir, env });
    const answered = () => emulator.reports.filter((r) => r.answeredAt).length;
    // Reports of every submission: on a loaded machine a lease can run out during a submit and the
    // group be submitted again (MM7 has no idempotency key), which brings reports of its own.
    await waitUntil(() => emulator.reports.length >= total && answered() === emulator.reports.length, {
      timeoutMs: 90_000,
      describe: () =>
        `every report answered (${answered()}/${emulator.reports.length}; last error ${emulator.reports.find((r) => r.lastError && !r.answeredAt)?.lastError})`,
    });
    await waitUntil(() => receiver.finalized.size === total, {
      timeoutMs: 60_000,
      describe: () => `${total} recipients finalized (${receiver.finalized.size})`,
    });
    const retried = emulator.reports.filter((r) => r.attempts > 1).length;
    assert.ok(retried > 0, 'some reports had to be sent again after the kill');
    for (const [recipientId, events] of receiver.finalized) {
      assert.equal(events.length, 1, `${recipientId}: one message.finalized event`);
      assert.equal(events[0]!.status, 'delivered', recipientId);
    }
    const wrong = await fetch(`${gateway.url}/mm7/mmsc`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${INBOUND[0]}:${OUTBOUND[1]}`).toString('base64')}` },
      body: 'x',
    });
    assert.equal(wrong.status, 401);
    gateway.kill('SIGTERM');
    await gateway.exited;
    for (const run of [firstRun, gateway]) {
      const output = run.stdout() + run.stderr();
      assert.match(output, /MM7 request with wrong or missing credentials|request completed/);
      for (const secret of [INBOUND[1], OUTBOUND[1]]) {
        assert.ok(!output.includes(secret), 'no secret in the logs');
        assert.ok(!output.includes(Buffer.from(secret).toString('base64').slice(0, 12)), 'not even encoded');
      }
    }
  } finally {
    gateway?.kill('SIGKILL');
    await gateway?.exited;
    await mmsc?.close();
    await receiver.close();
    await api.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
