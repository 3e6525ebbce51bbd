import type { SqlExecutor } from './driver.ts';

export interface SigningKeyRow {
  id: string;
  private_key_pem: string;
  public_key: string;
  created_at: string;
}

export function signingKeysRepo(db: SqlExecutor) {
  return {
    get(): Promise<SigningKeyRow | undefined> {
      return db.get<SigningKeyRow>("SELECT * FROM signing_keys WHERE id = 'default'");
    },
    /** First writer wins, so nodes starting together agree on one key. */
    async insertIfAbsent(row: Omit<SigningKeyRow, 'id'>): Promise<void> {
      await db.run(
        `INSERT INTO signing_keys (id, private_key_pem, public_key, created_at) VALUES ('default', ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
        [row.private_key_pem, row.public_key, row.created_at],
      );
    },
  };
}
