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
        `INSERT INTO inbound_receipts (id, connector, kind, carrier_message_id, payload, message_ids, routed, received_at, dedup_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          r.id,
          r.connector,
          r.kind,
          r.carrier_message_id,
          JSON.stringify(r.payload),
          JSON.stringify(r.message_ids),
          r.routed ? 1 : 0,
          r.received_at,
          r.dedup_key ?? null,
        ],
      );
    },
    /** The receipt kept under a dedup key (see InboundReceiptRecord.dedup_key). */
    async findByDedupKey(dedupKey: string): Promise<InboundReceiptRecord | undefined> {
      const row = await db.get<Row>('SELECT * FROM inbound_receipts WHERE dedup_key = ?', [dedupKey]);
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
