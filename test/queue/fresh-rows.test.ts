import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import { createMemorySimulatorLedger, createSimulator } from '../../src/carriers/simulator.ts';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import { createGroupMms, type SendDeps } from '../../src/messages/create-group-mms.ts';
import { analyzeText } from '../../src/messages/encoding.ts';
import { createOutboundDispatcher } from '../../src/net/outbound-guard.ts';
import { applyReportHandler } from '../../src/pipeline/apply-report.ts';
import { sendMessageHandler } from '../../src/pipeline/send-message.ts';
import { batchedTransactions } from '../../src/queue/batched-transaction.ts';
import type { JobHandler } from '../../src/queue/job-handler.ts';
import { startWorkerPool, type WorkerPool } from '../../src/queue/worker-pool.ts';
import type { Store } from '../../src/store/store.ts';
import { deliverWebhookHandler } from '../../src/webhooks/deliver-webhook.ts';
import { createSigner, generateSigningKeyPair } from '../../src/webhooks/signing.ts';
import { countingDriver, type Statement } from '../support/counting-driver.ts';
import { storesUnderTest } from '../support/databases.ts';
import { message, phoneNumber, profile, recipient, seedOrganization } from '../support/store-fixtures.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

// Work that is ready when its transaction commits is started by the node that committed it, with
// the rows that transaction wrote: the accept's send job, a submit answer's report job, the
// webhook jobs of both. No claim, no read back, and the same outcome as reading.

const ORG = 'org_fresh';
const FROM = '+13125550000';
const TO = ['+13125557001', '+13125557002', '+13125557003'];
const tiny = { delaysMs: [1, 1, 1], jitter: 0 };

async function seed(store: Store): Promise<void> {
  await seedOrganization(store, ORG);
  await store.profiles.create(profile(ORG, 'prof_fresh'));
  await store.numbers.add(phoneNumber(ORG, 'num_fresh', FROM, 'prof_fresh'));
}

function handlers(store: Store): JobHandler[] {
  const dispatcher = createOutboundDispatcher({ allowCidrs: ['127.0.0.0/8'], connectTimeoutMs: 1_000 });
  const signer = createSigner(generateSigningKeyPair().privateKeyPem);
  return [
    sendMessageHandler({
      store,
      connectorFor: async () => createSimulator({ ledger: createMemorySimulatorLedger(), reportDelayMs: 0 }),
      mediaStore: createFileMediaStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-media-'))),
      fetchMedia: async () => {
        throw new Error('no media in these tests');
      },
      carrierRetry: tiny,
    }),
    applyReportHandler({ store, unmatchedRetry: tiny }),
    deliverWebhookHandler({
      store,
      signerFor: async () => signer,
      dispatcher,
      timeoutMs: 2_000,
      schedule: tiny,
    }),
  ];
}

function runPool(store: Store, jobHandlers: JobHandler[]): WorkerPool {
  return startWorkerPool({
    store,
    handlers: jobHandlers,
    logger: pino({ level: 'silent' }),
    concurrency: 8,
    // Long enough that the poll never claims what the test says needs no claim.
    pollMs: 60_000,
    leaseMs: 60_000,
    shutdownGraceMs: 50,
    jobTimeoutMs: 60_000,
    crashSchedule: tiny,
    completionBatch: { maxSize: 64, maxDelayMs: 15 },
  });
}

function sendDeps(store: Store, pool: WorkerPool): SendDeps {
  return {
    store,
    lookupNumber: () => ({ carrier: 'Test Carrier', line_type: 'Wireless', country_code: 'US' }),
    analyzeText,
    rates: null,
    queueLifetimeMs: 3_600_000,
    onQueued: (organizationId) => pool.wake('message.send', organizationId),
    localWorkers: (queue, organizationId) => pool.reserve(queue, organizationId),
  };
}

const request = (webhookUrl: string, n: number) => ({
  from: FROM,
  to: TO,
  text: `fresh rows ${n}`,
  webhook_url: webhookUrl,
  use_profile_webhooks: false,
});

/** Every recipient of these messages delivered, and their six webhooks taken by the receiver. */
async function allDone(store: Store, receiver: WebhookReceiver, messageIds: string[]): Promise<void> {
  await waitFor(
    async () => {
      for (const id of messageIds) {
        const found = await store.messages.get(id);
        if (!found?.recipients.every((r) => r.status === 'delivered')) return false;
      }
      return receiver.received.length >= messageIds.length * TO.length * 2;
    },
    { description: 'every recipient delivered and every webhook received' },
  );
}

const matching = (statements: Statement[], pattern: RegExp) => statements.filter((s) => pattern.test(s.sql));

for (const { name, open } of storesUnderTest()) {
  describe(`work started where it was written (${name})`, () => {
    test('accepted messages run to their last webhook with no claim and no read of what the pipeline wrote', async () => {
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        counted = countingDriver(d);
        return counted.driver;
      });
      const receiver = await startWebhookReceiver({ keepRequests: true });
      const pool = runPool(store, handlers(store));
      try {
        await seed(store);
        const deps = sendDeps(store, pool);
        const accepted = await Promise.all(
          [1, 2].map((n) => createGroupMms(deps, ORG, request(receiver.url, n))),
        );
        const ids = accepted.map((a) => a.id);
        await allDone(store, receiver, ids);
        await waitFor(async () => (await store.jobs.count()) === 0, { description: 'every job completed' });
        const seen = [...counted.statements];

        // Claims are `UPDATE jobs SET locked_by = ?` (a reclaim sets it to NULL).
        const claims = matching(seen, /UPDATE jobs SET locked_by = \?/);
        assert.ok(claims.length > 0, 'the pool did look for work (at its start)');
        assert.deepEqual(
          claims.filter((c) => c.rows > 0),
          [],
          'no job was claimed',
        );
        assert.deepEqual(matching(seen, /SELECT \* FROM messages WHERE id IN/), [], 'no message read');
        assert.deepEqual(
          matching(seen, /FROM message_recipients WHERE (message_id IN|carrier_message_id)/),
          [],
          'no recipient read',
        );
        assert.deepEqual(matching(seen, /SELECT \* FROM webhook_events WHERE id IN/), [], 'no event read');

        // The webhook rounds that completed together were written with one statement each.
        const attemptInserts = matching(seen, /INSERT INTO webhook_attempts/);
        const stateUpdates = matching(seen, /UPDATE webhook_events/);
        assert.equal(
          attemptInserts.reduce((n, s) => n + s.rows, 0),
          12,
        );
        assert.ok(attemptInserts.length < 12, `attempts in ${attemptInserts.length} statements`);
        assert.ok(
          stateUpdates.some((s) => s.rows > 1),
          'several event states in one statement',
        );

        // The outcome is the one reading gives: stored states and what the receiver got agree.
        for (const id of ids) {
          const events = await store.webhooks.listEventsForMessage(id);
          assert.equal(events.length, 6);
          assert.ok(events.every((e) => e.status === 'delivered' && e.attempts === 1));
          const attempts = await store.webhooks.listAttemptsForMessage(id);
          assert.deepEqual(
            attempts.map((a) => [a.outcome, a.attempt]),
            events.map(() => ['delivered', 1]),
          );
          for (const e of events) {
            const got = receiver.received.find((r) => JSON.parse(r.rawBody).data.id === e.id);
            assert.ok(got, `event ${e.id} received`);
            assert.deepEqual(JSON.parse(got.rawBody).data.payload, e.payload);
          }
          const sent = events.filter((e) => e.event_type === 'message.sent');
          const final = events.filter((e) => e.event_type === 'message.finalized');
          assert.equal(sent.length, 3);
          assert.equal(final.length, 3);
          for (const f of final) {
            const before = sent.find((s) => s.recipient_id === f.recipient_id)!;
            assert.ok(before.id < f.id, 'message.sent recorded before message.finalized');
          }
        }
      } finally {
        await pool.stop();
        await receiver.close();
        await store.close();
      }
    });

    test('the rows a job starts with are the rows the database holds at that moment', async () => {
      const store = await open();
      const receiver = await startWebhookReceiver({ keepRequests: true });
      const compared = new Map<string, number>();
      const differences: unknown[] = [];
      const compare = (queue: string, given: unknown, read: unknown) => {
        try {
          assert.deepEqual(given, read);
        } catch (err) {
          differences.push({ queue, err: String(err) });
        }
      };
      // Each handler first compares the rows it was given with a read of the same rows.
      const checking = handlers(store).map(
        (h): JobHandler => ({
          ...h,
          async run(control) {
            const fresh = control.job.fresh as Record<string, unknown> | undefined;
            if (fresh !== undefined) {
              if (h.queue === 'webhook.deliver') {
                compare(h.queue, fresh, await store.webhooks.getEvent(String(control.job.payload.eventId)));
              } else {
                const { message, recipients } = fresh as { message: { id: string }; recipients: unknown[] };
                const stored = await store.messages.get(message.id);
                compare(h.queue, message, stored?.message);
                compare(h.queue, recipients, stored?.recipients);
              }
              compared.set(h.queue, (compared.get(h.queue) ?? 0) + 1);
            }
            return h.run(control);
          },
        }),
      );
      const pool = runPool(store, checking);
      try {
        await seed(store);
        const accepted = await createGroupMms(sendDeps(store, pool), ORG, request(receiver.url, 1));
        await allDone(store, receiver, [accepted.id]);
        await waitFor(async () => (await store.jobs.count()) === 0, { description: 'every job completed' });
        assert.deepEqual(differences, []);
        assert.deepEqual(Object.fromEntries(compared), {
          'message.send': 1,
          'carrier.report': 1,
          'webhook.deliver': 6,
        });
      } finally {
        await pool.stop();
        await receiver.close();
        await store.close();
      }
    });

    test('concurrent accepts share one commit; a refused one fails alone and stores nothing', async () => {
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        counted = countingDriver(d);
        return counted.driver;
      });
      try {
        await seed(store);
        await store.optOuts.add({
          messaging_profile_id: 'prof_fresh',
          to_number: '+13125559999',
          organization_id: ORG,
          from_number: FROM,
          keyword: 'STOP',
          created_at: new Date().toISOString(),
        });
        const deps: SendDeps = {
          store,
          lookupNumber: () => ({ carrier: null, line_type: null, country_code: 'US' }),
          analyzeText,
          rates: null,
          queueLifetimeMs: 3_600_000,
          transaction: batchedTransactions(store),
        };
        const url = 'http://127.0.0.1:9/hook';
        const together = await Promise.all(
          [1, 2, 3, 4].map((n) => createGroupMms(deps, ORG, request(url, n))),
        );
        const inserts = matching(counted.statements, /INSERT INTO messages/);
        assert.equal(inserts.length, 4);
        assert.equal(new Set(inserts.map((s) => s.tx)).size, 1, 'four accepts, one transaction');

        const outcomes = await Promise.allSettled([
          createGroupMms(deps, ORG, request(url, 5)),
          createGroupMms(deps, ORG, { ...request(url, 6), to: ['+13125559999'] }),
          createGroupMms(deps, ORG, request(url, 7)),
        ]);
        assert.equal(outcomes[0]!.status, 'fulfilled');
        assert.equal(outcomes[2]!.status, 'fulfilled');
        assert.equal(outcomes[1]!.status, 'rejected');
        assert.match(JSON.stringify((outcomes[1] as PromiseRejectedResult).reason), /40300/);
        const stored = await store.messages.listForOrganization(ORG, {}, 100);
        assert.deepEqual(
          stored.map((m) => m.message.text).sort(),
          [1, 2, 3, 4, 5, 7].map((n) => `fresh rows ${n}`),
        );
        assert.equal(await store.jobs.count('message.send'), 6);
        assert.ok(together.every((m) => m.to.every((t) => t.status === 'queued')));
      } finally {
        await store.close();
      }
    });

    test('sends started together renew their leases and mark their recipients with a statement each; one whose lease was taken marks nothing and submits nothing', async () => {
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        counted = countingDriver(d);
        return counted.driver;
      });
      const submitted: string[] = [];
      try {
        await seed(store);
        const ids = ['msg_s1', 'msg_s2', 'msg_s3'];
        for (const [m, id] of ids.entries()) {
          await store.transaction(async (tx) => {
            await tx.messages.insert(
              {
                ...message(ORG, 'prof_fresh', id),
                media: [],
                valid_until: new Date(Date.now() + 3_600_000).toISOString(),
              },
              [0, 1, 2].map((i) => recipient(id, `${id}_r${i}`, i, `+1312555800${m}${i}`)),
            );
            await tx.jobs.enqueue({ queue: 'message.send', payload: { messageId: id }, fairKey: ORG });
          });
        }
        const send = sendMessageHandler({
          store,
          route: {
            async prepare(m) {
              // Another worker takes msg_s2's lease between its claim and its start.
              if (m.id === 'msg_s2') {
                await counted.driver.run("UPDATE jobs SET locked_by = 'thief' WHERE payload LIKE ?", [
                  '%msg_s2%',
                ]);
              }
              return {
                async submit(s) {
                  submitted.push(s.messageId);
                  return {
                    connector: 'test',
                    result: {
                      ok: true,
                      recipients: s.recipients.map((r) => ({
                        recipientId: r.recipientId,
                        accepted: true as const,
                        carrierMessageId: `car_${r.recipientId}`,
                      })),
                    },
                  };
                },
              };
            },
          },
          mediaStore: createFileMediaStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-media-'))),
          fetchMedia: async () => {
            throw new Error('no media in these tests');
          },
          carrierRetry: tiny,
        });
        const pool = runPool(store, [send]);
        try {
          await waitFor(async () => (await store.jobs.count('message.send')) === 1, {
            description: 'the two sends still leased completed',
          });
        } finally {
          await pool.stop();
        }
        assert.deepEqual(submitted.sort(), ['msg_s1', 'msg_s3']);
        const renewals = matching(counted.statements, /UPDATE jobs SET locked_until/).filter(
          (r) => r.tx !== 0,
        );
        const marks = matching(
          counted.statements,
          /UPDATE message_recipients SET status = \?, updated_at = \?\s+WHERE/,
        ).filter((r) => r.rows > 0);
        // One statement renewed the two held leases (msg_s2 may reach its start in the same turn or,
        // its route having awaited the theft, in a later one: either way its renewal finds nothing).
        assert.deepEqual(
          renewals.map((r) => r.rows).filter((n) => n > 0),
          [2],
        );
        const both = renewals.find((r) => r.rows === 2)!;
        assert.equal(marks.length, 1);
        assert.equal(marks[0]!.tx, both.tx, 'renewed and marked in one transaction');
        assert.equal(marks[0]!.rows, 6, 'the six recipients of the two held sends marked sending');
        const s2 = await store.messages.get('msg_s2');
        assert.deepEqual(
          s2!.recipients.map((r) => r.status),
          ['queued', 'queued', 'queued'],
        );
        for (const id of ['msg_s1', 'msg_s3']) {
          const found = await store.messages.get(id);
          assert.ok(
            found!.recipients.every((r) => r.status === 'sent'),
            id,
          );
        }
      } finally {
        await store.close();
      }
    });

    test("a node keeps at most a queue's capacity of accepted work waiting for it; past that, accepts queue for every node", async () => {
      const store = await open();
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const slow: JobHandler = {
        queue: 'message.send',
        async run(control) {
          await held;
          await control.complete();
        },
      };
      const pool = startWorkerPool({
        store,
        handlers: [slow],
        logger: pino({ level: 'silent' }),
        concurrency: 2,
        // One organization may take both slots here.
        fairShare: 1,
        pollMs: 60_000,
        leaseMs: 60_000,
        shutdownGraceMs: 50,
        jobTimeoutMs: 60_000,
        crashSchedule: tiny,
      });
      try {
        await seed(store);
        const deps = sendDeps(store, pool);
        const url = 'http://127.0.0.1:9/hook';
        // Two start (the pool's two slots), two wait for them, leased here; the fifth is the database's.
        for (let n = 1; n <= 5; n++) await createGroupMms(deps, ORG, request(url, n));
        const jobs = await store.jobs.claim('another-node', 10, 60_000);
        assert.deepEqual(
          jobs.map((j) => j.queue),
          ['message.send'],
          'one send left for any node',
        );
        assert.equal(pool.reserve('webhook.deliver', ORG), null, 'no handler here for that queue');
      } finally {
        release();
        await pool.stop();
        await store.close();
      }
    });

    test('event states written together: the later state of the same event wins', async () => {
      const store = await open();
      try {
        await seedOrganization(store, ORG);
        const base = {
          organization_id: ORG,
          message_id: 'msg_x',
          event_type: 'message.sent',
          occurred_at: new Date().toISOString(),
          payload: { n: 1 },
          urls: [{ url: 'http://127.0.0.1:9/a', gone: false }],
          status: 'pending' as const,
          attempts: 0,
          delivered_to: null,
          created_at: new Date().toISOString(),
          completed_at: null,
        };
        await store.webhooks.insertEvents([
          { ...base, id: 'evt_1', recipient_id: 'r1' },
          { ...base, id: 'evt_2', recipient_id: 'r2' },
        ]);
        const gone = [{ url: 'http://127.0.0.1:9/a', gone: true }];
        await store.webhooks.updateEvents([
          {
            id: 'evt_1',
            fields: { ...base, attempts: 1, next_attempt_at: '2030-01-01T00:00:00.000Z' },
          },
          {
            id: 'evt_2',
            fields: { ...base, urls: gone, status: 'failed', attempts: 3, completed_at: 'c2' },
          },
          {
            id: 'evt_1',
            fields: {
              ...base,
              status: 'delivered',
              attempts: 2,
              delivered_to: 'http://127.0.0.1:9/a',
              completed_at: 'c1',
            },
          },
        ]);
        const events = await store.webhooks.getEvents(['evt_1', 'evt_2']);
        const pick = (id: string) => {
          const e = events.get(id)!;
          return [e.status, e.attempts, e.delivered_to, e.completed_at, e.urls, e.next_attempt_at ?? null];
        };
        assert.deepEqual(pick('evt_1'), ['delivered', 2, 'http://127.0.0.1:9/a', 'c1', base.urls, null]);
        assert.deepEqual(pick('evt_2'), ['failed', 3, null, 'c2', gone, null]);
      } finally {
        await store.close();
      }
    });
  });
}
