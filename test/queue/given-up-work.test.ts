import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { CarrierConnector, SubmitResult } from '../../src/carriers/types.ts';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import { createOutboundDispatcher } from '../../src/net/outbound-guard.ts';
import { sendMessageHandler } from '../../src/pipeline/send-message.ts';
import type { JobHandler } from '../../src/queue/job-handler.ts';
import { startWorkerPool } from '../../src/queue/worker-pool.ts';
import type { Store } from '../../src/store/store.ts';
import { deliverWebhookHandler } from '../../src/webhooks/deliver-webhook.ts';
import { createSigner, generateSigningKeyPair } from '../../src/webhooks/signing.ts';
import { storesUnderTest } from '../support/databases.ts';
import { freePort } from '../support/free-port.ts';
import { message, profile, recipient, seedOrganization } from '../support/store-fixtures.ts';
import { waitFor } from '../support/wait-for.ts';

const ORG = 'org_a';
const MSG = 'msg_1';
const tiny = { delaysMs: [1, 1, 1], jitter: 0 };

async function seedMessage(store: Store, webhookUrl: string): Promise<void> {
  await seedOrganization(store, ORG);
  await store.profiles.create(profile(ORG, 'prof_1'));
  await store.transaction(async (tx) => {
    await tx.messages.insert(
      {
        ...message(ORG, 'prof_1', MSG),
        media: [],
        webhook_url: webhookUrl,
        use_profile_webhooks: false,
        valid_until: new Date(Date.now() + 3_600_000).toISOString(),
      },
      [1, 2, 3].map((n) => recipient(MSG, `rcp_${n}`, n, `+1312555010${n}`)),
    );
    await tx.jobs.enqueue({ queue: 'message.send', payload: { messageId: MSG }, fairKey: ORG });
  });
}

function runPool(store: Store, handlers: JobHandler[]) {
  return startWorkerPool({
    store,
    handlers,
    logger: pino({ level: 'silent' }),
    concurrency: 4,
    pollMs: 10,
    leaseMs: 60_000,
    shutdownGraceMs: 50,
    jobTimeoutMs: 60_000,
    crashSchedule: tiny,
  });
}

function sendHandler(store: Store, connector: CarrierConnector) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-media-'));
  return sendMessageHandler({
    store,
    connectorFor: async () => connector,
    mediaStore: createFileMediaStore(dir),
    fetchMedia: async () => {
      throw new Error('no media in these tests');
    },
    carrierRetry: tiny,
  });
}

const statuses = async (store: Store) =>
  Object.fromEntries((await store.messages.get(MSG))!.recipients.map((r) => [r.id, r.status]));

for (const { name, open } of storesUnderTest()) {
  describe(`work that ends badly ends visibly (${name})`, () => {
    test('a recipient the carrier answer leaves out fails instead of staying sending', async () => {
      const store = await open();
      const connector: CarrierConnector = {
        name: 'forgetful',
        async submit(s): Promise<SubmitResult> {
          const [first, second] = s.recipients;
          return {
            ok: true,
            recipients: [first!, second!].map((r) => ({
              recipientId: r.recipientId,
              accepted: true as const,
              carrierMessageId: `car_${r.recipientId}`,
            })),
          };
        },
      };
      const pool = runPool(store, [sendHandler(store, connector)]);
      try {
        await seedMessage(store, 'http://127.0.0.1:9/hook');
        pool.wake();
        await waitFor(async () => (await store.jobs.count('message.send')) === 0);
        assert.deepEqual(await statuses(store), {
          rcp_1: 'sent',
          rcp_2: 'sent',
          rcp_3: 'sending_failed',
        });
        const left = (await store.messages.get(MSG))!.recipients[2]!;
        assert.equal(left.errors[0]?.code, '10007');
        const events = await store.webhooks.listEventsForMessage(MSG);
        assert.deepEqual(events.map((e) => `${e.recipient_id}:${e.event_type}`).sort(), [
          'rcp_1:message.sent',
          'rcp_2:message.sent',
          'rcp_3:message.finalized',
        ]);
      } finally {
        await pool.stop();
        await store.close();
      }
    });

    test('carrier retries do not use up the crash schedule; a send given up fails its recipients with webhooks and is kept', async () => {
      const store = await open();
      let submits = 0;
      let crashes = 0;
      const connector: CarrierConnector = {
        name: 'broken',
        async submit(): Promise<SubmitResult> {
          submits++;
          // The carrier is down for its whole retry schedule but the last try, then we crash.
          if (submits <= tiny.delaysMs.length) {
            return {
              ok: false,
              retryable: true,
              error: { code: '40006', title: 'Recipient server unavailable' },
            };
          }
          crashes++;
          throw new Error(`connector bug ${crashes}`);
        },
      };
      const pool = runPool(store, [sendHandler(store, connector)]);
      try {
        await seedMessage(store, 'http://127.0.0.1:9/hook');
        pool.wake();
        const [failed] = await waitFor(async () => {
          const f = await store.jobs.failed('message.send');
          return f.length > 0 ? f : null;
        });
        assert.equal(
          crashes,
          tiny.delaysMs.length + 1,
          'the whole crash schedule, after every carrier retry',
        );
        assert.equal(failed!.retries, tiny.delaysMs.length);
        assert.equal(failed!.crashes, tiny.delaysMs.length);
        assert.match(failed!.last_error ?? '', /connector bug 4/);
        assert.deepEqual(await statuses(store), {
          rcp_1: 'sending_failed',
          rcp_2: 'sending_failed',
          rcp_3: 'sending_failed',
        });
        const events = await store.webhooks.listEventsForMessage(MSG);
        assert.deepEqual(
          events.map((e) => e.event_type),
          ['message.finalized', 'message.finalized', 'message.finalized'],
        );
      } finally {
        await pool.stop();
        await store.close();
      }
    });

    test('a webhook event out of rounds is failed, and its job kept with the last error', async () => {
      const store = await open();
      const dispatcher = createOutboundDispatcher({ allowCidrs: ['127.0.0.0/8'], connectTimeoutMs: 1_000 });
      const deadUrl = `http://127.0.0.1:${await freePort()}/hook`;
      const pool = runPool(store, [
        deliverWebhookHandler({
          store,
          signerFor: async () => createSigner(generateSigningKeyPair().privateKeyPem),
          dispatcher,
          timeoutMs: 2_000,
          schedule: { delaysMs: [1], jitter: 0 },
        }),
      ]);
      try {
        const connectorless = sendHandler(store, {
          name: 'ok',
          async submit(s): Promise<SubmitResult> {
            return {
              ok: true,
              recipients: s.recipients.map((r) => ({
                recipientId: r.recipientId,
                accepted: true as const,
                carrierMessageId: `car_${r.recipientId}`,
              })),
            };
          },
        });
        const sender = runPool(store, [connectorless]);
        await seedMessage(store, deadUrl);
        sender.wake();
        await waitFor(async () => (await store.jobs.count('message.send')) === 0);
        await sender.stop();
        pool.wake();
        const failed = await waitFor(async () => {
          const f = await store.jobs.failed('webhook.deliver');
          return f.length === 3 ? f : null;
        });
        assert.ok(failed.every((j) => /connection refused/i.test(j.last_error ?? '')));
        const events = await store.webhooks.listEventsForMessage(MSG);
        assert.deepEqual(
          events.map((e) => [e.status, e.attempts]),
          [
            ['failed', 2],
            ['failed', 2],
            ['failed', 2],
          ],
        );
      } finally {
        await pool.stop();
        await dispatcher.close();
        await store.close();
      }
    });
  });
}
