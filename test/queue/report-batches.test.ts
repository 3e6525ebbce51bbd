import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import { createMemorySimulatorLedger, createSimulator } from '../../src/carriers/simulator.ts';
import type { CarrierConnector, SubmitResult } from '../../src/carriers/types.ts';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import { applyReportHandler } from '../../src/pipeline/apply-report.ts';
import {
  CARRIER_REPORT_QUEUE,
  recordDeliveryReport,
  recordScheduledReports,
} from '../../src/pipeline/record-delivery-report.ts';
import { sendMessageHandler } from '../../src/pipeline/send-message.ts';
import type { JobHandler } from '../../src/queue/job-handler.ts';
import { startWorkerPool } from '../../src/queue/worker-pool.ts';
import type { Store } from '../../src/store/store.ts';
import { storesUnderTest } from '../support/databases.ts';
import { message, profile, recipient, seedOrganization } from '../support/store-fixtures.ts';
import { waitFor } from '../support/wait-for.ts';

// Fewer, larger units of work: the reports a submit answer gives are one job per due time, applied
// in one transaction; reports from other connectors (recordDeliveryReport) keep their semantics.

const ORG = 'org_a';
const MSG = 'msg_1';
const tiny = { delaysMs: [1, 1, 1], jitter: 0 };
const RECIPIENTS = ['rcp_1', 'rcp_2', 'rcp_3'];

async function seedMessage(store: Store): Promise<void> {
  await seedOrganization(store, ORG);
  await store.profiles.create(profile(ORG, 'prof_1'));
  await store.transaction(async (tx) => {
    await tx.messages.insert(
      {
        ...message(ORG, 'prof_1', MSG),
        media: [],
        webhook_url: 'http://127.0.0.1:9/hook',
        use_profile_webhooks: false,
        valid_until: new Date(Date.now() + 3_600_000).toISOString(),
      },
      RECIPIENTS.map((id, i) => recipient(MSG, id, i + 1, `+1312555700${i + 1}`)),
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
  return sendMessageHandler({
    store,
    connectorFor: async () => connector,
    mediaStore: createFileMediaStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-media-'))),
    fetchMedia: async () => {
      throw new Error('no media in these tests');
    },
    carrierRetry: tiny,
  });
}

const recipients = async (store: Store) =>
  Object.fromEntries((await store.messages.get(MSG))!.recipients.map((r) => [r.id, r]));

/** Each recipient's webhook events, in the order they were recorded. */
const eventsByRecipient = async (store: Store) => {
  const out: Record<string, string[]> = {};
  const events = (await store.webhooks.listEventsForMessage(MSG)).sort((a, b) =>
    a.occurred_at === b.occurred_at ? a.id.localeCompare(b.id) : a.occurred_at.localeCompare(b.occurred_at),
  );
  for (const e of events) {
    out[e.recipient_id] = [...(out[e.recipient_id] ?? []), e.event_type];
  }
  return out;
};

for (const { name, open } of storesUnderTest()) {
  describe(`delivery reports in batches (${name})`, () => {
    test("a submit's reports are one job, applied in one transaction, each recipient sent then finalized", async () => {
      const store = await open();
      // Reports due at once; this pool has no report handler, so the job waits for the next one.
      const simulator = createSimulator({ ledger: createMemorySimulatorLedger(), reportDelayMs: 0 });
      const sender = runPool(store, [sendHandler(store, simulator)]);
      try {
        await seedMessage(store);
        sender.wake();
        await waitFor(async () => (await store.jobs.count('message.send')) === 0);
        await sender.stop();
        assert.equal(await store.jobs.count(CARRIER_REPORT_QUEUE), 1, 'one report job for the submission');
        const sent = await recipients(store);
        assert.ok(RECIPIENTS.every((id) => sent[id]!.status === 'sent' && sent[id]!.carrier_message_id));

        // The same reports given again (a repeated submit answer) are stored once.
        const occurredAt = new Date();
        await recordScheduledReports(
          store,
          RECIPIENTS.map((id) => ({
            report: { carrierMessageId: sent[id]!.carrier_message_id!, status: 'delivered', occurredAt },
            at: occurredAt,
          })),
          Date.now(),
        );
        assert.equal(await store.jobs.count(CARRIER_REPORT_QUEUE), 1);
        const reporter = runPool(store, [applyReportHandler({ store, unmatchedRetry: tiny })]);
        try {
          reporter.wake();
          await waitFor(async () =>
            Object.values(await recipients(store)).every((r) => r.status === 'delivered'),
          );
          await waitFor(async () => (await store.jobs.count(CARRIER_REPORT_QUEUE)) === 0);
        } finally {
          await reporter.stop();
        }
        // message.sent was recorded with the send, message.finalized with the report job, later.
        const events = await eventsByRecipient(store);
        for (const id of RECIPIENTS) {
          assert.deepEqual(events[id]?.sort(), ['message.finalized', 'message.sent'], id);
        }
      } finally {
        await sender.stop();
        await store.close();
      }
    });

    test('awaiting-sent recipients stay sending; a sent report sends them, a final one that overtakes it sends them first', async () => {
      const store = await open();
      const upstream: CarrierConnector = {
        name: 'upstream',
        async submit(s): Promise<SubmitResult> {
          return {
            ok: true,
            recipients: s.recipients.map((r) => ({
              recipientId: r.recipientId,
              accepted: true as const,
              carrierMessageId: `up_${r.recipientId}`,
              awaitingSent: true,
            })),
          };
        },
      };
      const pool = runPool(store, [
        sendHandler(store, upstream),
        applyReportHandler({ store, unmatchedRetry: tiny }),
      ]);
      try {
        await seedMessage(store);
        pool.wake();
        await waitFor(async () => (await store.jobs.count('message.send')) === 0);
        const queued = await recipients(store);
        assert.deepEqual(
          RECIPIENTS.map((id) => [queued[id]!.status, queued[id]!.carrier_message_id]),
          RECIPIENTS.map((id) => ['sending', `up_${id}`]),
        );
        assert.deepEqual(await eventsByRecipient(store), {});

        const now = Date.now();
        await store.transaction(async (tx) => {
          await recordDeliveryReport(
            tx,
            { carrierMessageId: 'up_rcp_1', status: 'delivered', occurredAt: new Date() },
            now,
          );
          await recordDeliveryReport(
            tx,
            { carrierMessageId: 'up_rcp_2', status: 'sent', occurredAt: new Date() },
            now,
          );
          await recordDeliveryReport(
            tx,
            {
              carrierMessageId: 'up_rcp_3',
              status: 'sending_failed',
              error: { code: '40006', title: 'Recipient server unavailable' },
              occurredAt: new Date(),
            },
            now,
          );
        });
        pool.wake();
        await waitFor(async () => (await store.jobs.count(CARRIER_REPORT_QUEUE)) === 0);
        const after = await recipients(store);
        assert.deepEqual(
          RECIPIENTS.map((id) => after[id]!.status),
          ['delivered', 'sent', 'sending_failed'],
        );
        assert.ok(after.rcp_1!.sent_at && after.rcp_2!.sent_at);
        assert.equal(after.rcp_3!.errors[0]?.code, '40006');
        assert.deepEqual(await eventsByRecipient(store), {
          rcp_1: ['message.sent', 'message.finalized'],
          rcp_2: ['message.sent'],
          rcp_3: ['message.finalized'],
        });
      } finally {
        await pool.stop();
        await store.close();
      }
    });

    test('a report job with an unknown carrier id applies the others and is retried', async () => {
      const store = await open();
      const simulator = createSimulator({ ledger: createMemorySimulatorLedger(), reportDelayMs: 3_600_000 });
      const slow = { delaysMs: [3_600_000], jitter: 0 };
      const pool = runPool(store, [
        sendHandler(store, simulator),
        applyReportHandler({ store, unmatchedRetry: slow }),
      ]);
      try {
        await seedMessage(store);
        pool.wake();
        await waitFor(async () => (await store.jobs.count('message.send')) === 0);
        const sent = await recipients(store);
        await recordScheduledReports(
          store,
          [
            {
              report: {
                carrierMessageId: sent.rcp_1!.carrier_message_id!,
                status: 'delivered',
                occurredAt: new Date(),
              },
              at: new Date(),
            },
            {
              report: { carrierMessageId: 'not-yet-known', status: 'delivered', occurredAt: new Date() },
              at: new Date(),
            },
          ],
          Date.now(),
        );
        pool.wake();
        await waitFor(async () => (await recipients(store)).rcp_1!.status === 'delivered');
        // The job waits for its retry (the submission's own report job is due in an hour too).
        assert.equal(await store.jobs.count(CARRIER_REPORT_QUEUE), 2);
        assert.deepEqual(
          Object.values(await recipients(store)).map((r) => r.status),
          ['delivered', 'sent', 'sent'],
        );
      } finally {
        await pool.stop();
        await store.close();
      }
    });
  });
}
