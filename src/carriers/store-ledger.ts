import type { Store } from '../store/store.ts';
import type { SimulatorLedger } from './simulator.ts';
import type { DeliveryReport } from './types.ts';

export const CARRIER_REPORT_QUEUE = 'carrier.report';

/** A delivery report as stored in a queue job's payload. */
export interface StoredReport {
  carrierMessageId: string;
  status: DeliveryReport['status'];
  error: DeliveryReport['error'] | null;
  occurredAt: string;
}

/**
 * The simulator's durable memory, kept in the gateway's database: its book of submissions, and its
 * pending delivery reports as queue jobs (one per carrier id), so they survive a crash of the gateway.
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
    async scheduleReport(report, at) {
      const payload: StoredReport = {
        carrierMessageId: report.carrierMessageId,
        status: report.status,
        error: report.error ?? null,
        occurredAt: report.occurredAt.toISOString(),
      };
      await store.jobs.enqueue(
        {
          queue: CARRIER_REPORT_QUEUE,
          payload: { ...payload },
          runAt: at.getTime(),
          uniqueKey: `report:${report.carrierMessageId}`,
        },
        Date.now(),
      );
      onScheduled();
    },
  };
}
