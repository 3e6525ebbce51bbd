import type { InboundReceiptRecord } from '../records.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

type Row = Omit<InboundReceiptRecord, 'payload' | 'message_ids' | 'routed'> & {
  payload: string;
  message_ids: string;
  routed: number | boolean;
};

const fromRow = (r: Row): InboundReceiptRecord => ({
  ...r,
  payload: parseJson(r.payload, {}),
  message_ids: parseJson<string[]>(r.message_ids, []),
  routed: Boolean(r.routed),
});

export function inboundReceiptsRepo(db: SqlExecutor) {
  return {
    async insert(r: InboundReceiptRecord): Promise<void> {
      await db.run(
        `INSERT INTO inbound_receipts (id, connector, kind, carrier_message_id, payload, message_ids, routed, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          r.id,
          r.connector,
          r.kind,
          r.carrier_message_id,
          JSON.stringify(r.payload),
          JSON.stringify(r.message_ids),
          r.routed ? 1 : 0,
          r.received_at,
        ],
      );
    },
    /** The message receipt a connector kept for a carrier id (a carrier's repeat of it is a duplicate). */
    async findByCarrierId(
      connector: string,
      carrierMessageId: string,
    ): Promise<InboundReceiptRecord | undefined> {
      const row = await db.get<Row>(
        `SELECT * FROM inbound_receipts WHERE connector = ? AND carrier_message_id = ? AND kind = 'message' LIMIT 1`,
        [connector, carrierMessageId],
      );
      return row ? fromRow(row) : undefined;
    },
    /** Newest first. */
    async list(limit: number): Promise<InboundReceiptRecord[]> {
      const rows = await db.all<Row>(
        'SELECT * FROM inbound_receipts ORDER BY received_at DESC, id DESC LIMIT ?',
        [limit],
      );
      return rows.map(fromRow);
    },
  };
}
