import type { Store } from '../store/store.ts';
import type { SimulatorLedger } from './simulator.ts';

/**
 * The simulator's durable memory, kept in the gateway's database: its book of submissions, one
 * write per submission. Its reports travel with its answer and are recorded with it.
 */
export function createStoreLedger(store: Store): SimulatorLedger {
  return {
    recordSubmits: (entries) => {
      const at = new Date().toISOString();
      return store.simulator.recordMany(
        entries.map((e) => ({
          idempotency_key: e.idempotencyKey,
          recipient_id: e.recipientId,
          phone_number: e.phoneNumber,
          carrier_message_id: e.carrierMessageId,
          created_at: at,
        })),
      );
    },
  };
}
