import type { SqlExecutor } from './driver.ts';

export interface IdempotencyRecord {
  organization_id: string;
  idempotency_key: string;
  request_hash: string;
  message_id: string;
  response: string;
  created_at: string;
}

export function idempotencyRepo(db: SqlExecutor) {
  return {
    /** The key's record when it was created after `since` (older ones have expired). */
    find(organizationId: string, key: string, since: string): Promise<IdempotencyRecord | undefined> {
      return db.get<IdempotencyRecord>(
        'SELECT * FROM idempotency_keys WHERE organization_id = ? AND idempotency_key = ? AND created_at > ?',
        [organizationId, key, since],
      );
    },
    /**
     * Claims the key (dropping an expired record of it first). False when another request holds it:
     * on PostgreSQL a concurrent claimer waits here until the holder's transaction ends.
     */
    async claim(record: IdempotencyRecord, expiredBefore: string): Promise<boolean> {
      await db.run(
        'DELETE FROM idempotency_keys WHERE organization_id = ? AND idempotency_key = ? AND created_at <= ?',
        [record.organization_id, record.idempotency_key, expiredBefore],
      );
      const inserted = await db.run(
        `INSERT INTO idempotency_keys (organization_id, idempotency_key, request_hash, message_id, response, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (organization_id, idempotency_key) DO NOTHING`,
        [
          record.organization_id,
          record.idempotency_key,
          record.request_hash,
          record.message_id,
          record.response,
          record.created_at,
        ],
      );
      return inserted > 0;
    },
  };
}
