import { batchedCalls } from '../queue/batched-calls.ts';
import type { SimulatorSubmissionRow } from '../store/sql/simulator-ledger.ts';
import type { Store } from '../store/store.ts';
import type { SimulatorLedger } from './simulator.ts';
import { scheduleSimulatorReply } from './simulator-replies.ts';

/**
 * The simulator's durable memory, kept in the gateway's database: its book of submissions, one
 * write per submission, and its scripted handsets' replies as queue jobs. Its reports travel with
 * its answer and are recorded with it.
 */
export function createStoreLedger(store: Store, onScheduled: () => void = () => {}): SimulatorLedger {
  // The submits of the sends started together are written with one statement.
  const record = batchedCalls(async (submits: Array<Omit<SimulatorSubmissionRow, 'times_seen'>>[]) => {
    const results = await store.simulator.recordMany(submits.flat());
    const starts = submits.map((_, i) => submits.slice(0, i).reduce((n, e) => n + e.length, 0));
    return submits.map((entries, i) => results.slice(starts[i], starts[i]! + entries.length));
  });
  return {
    recordSubmits: (entries, receivedAt) => {
      const at = receivedAt.toISOString();
      return record(
        entries.map((e) => ({
          idempotency_key: e.idempotencyKey,
          recipient_id: e.recipientId,
          phone_number: e.phoneNumber,
          carrier_message_id: e.carrierMessageId,
          created_at: at,
        })),
      );
    },
    async scheduleReplies(replies) {
      const now = Date.now();
      await store.transaction(async (tx) => {
        for (const reply of replies) await scheduleSimulatorReply(tx, reply, now);
      });
      onScheduled();
    },
  };
}
