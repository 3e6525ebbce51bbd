import { recordDeliveryReport } from '../pipeline/record-delivery-report.ts';
import type { Store } from '../store/store.ts';
import type { SimulatorLedger } from './simulator.ts';
import { scheduleSimulatorReply } from './simulator-replies.ts';

/**
 * The simulator's durable memory, kept in the gateway's database: its book of submissions, and its
 * pending delivery reports (and scripted handsets' replies) as queue jobs, one per carrier id, so they
 * survive a crash of the gateway.
 */
export function createStoreLedger(store: Store, onScheduled: () => void): SimulatorLedger {
  return {
    recordSubmit: (e) =>
      store.simulator.record({
        idempotency_key: e.idempotencyKey,
        recipient_id: e.recipientId,
        phone_number: e.phoneNumber,
        carrier_message_id: e.carrierMessageId,
        created_at: new Date().toISOString(),
      }),
    async scheduleReport(report, at, reply) {
      const now = Date.now();
      if (reply) {
        await store.transaction(async (tx) => {
          await recordDeliveryReport(tx, report, now, at.getTime());
          await scheduleSimulatorReply(tx, reply, now);
        });
      } else {
        await recordDeliveryReport(store, report, now, at.getTime());
      }
      onScheduled();
    },
  };
}
