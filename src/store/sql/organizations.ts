import type { ApiKey, Organization } from '../records.ts';
import type { Dialect, SqlExecutor } from './driver.ts';

// Any fixed number unique to this program (advisory locks are per database; migrations use another).
const FIRST_START_LOCK_KEY = 7_370_416_382;

export function organizationsRepo(db: SqlExecutor, dialect: Dialect) {
  return {
    /**
     * Inside a transaction: waits until no other transaction holds this lock, and holds it until
     * this one ends, so nodes starting together on an empty database decide one after another
     * whether it is empty. SQLite needs nothing: its transactions hold the one write lock.
     */
    async lockFirstStart(): Promise<void> {
      if (dialect === 'postgres') await db.get('SELECT pg_advisory_xact_lock(?)', [FIRST_START_LOCK_KEY]);
    },
    async create(org: Organization): Promise<void> {
      await db.run('INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)', [
        org.id,
        org.name,
        org.created_at,
      ]);
    },
    get(id: string): Promise<Organization | undefined> {
      return db.get<Organization>('SELECT id, name, created_at FROM organizations WHERE id = ?', [id]);
    },
    list(): Promise<Organization[]> {
      return db.all<Organization>('SELECT id, name, created_at FROM organizations ORDER BY created_at, id');
    },
    async count(): Promise<number> {
      const row = await db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM organizations');
      return Number(row?.n ?? 0);
    },
  };
}

export function apiKeysRepo(db: SqlExecutor) {
  return {
    async create(key: Omit<ApiKey, 'last_used_at'>): Promise<void> {
      await db.run(
        'INSERT INTO api_keys (id, organization_id, key_hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
        [key.id, key.organization_id, key.key_hash, key.prefix, key.created_at, key.revoked_at],
      );
    },
    /** Key ids and creation times of an organization, never the hashes. */
    findActiveByHash(hash: string): Promise<ApiKey | undefined> {
      return db.get<ApiKey>(
        'SELECT id, organization_id, key_hash, prefix, created_at, revoked_at, last_used_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL',
        [hash],
      );
    },
    /** Every key of the organization, oldest first, without its hash. */
    listForOrganization(organizationId: string): Promise<Array<Omit<ApiKey, 'key_hash'>>> {
      return db.all(
        `SELECT id, organization_id, prefix, created_at, revoked_at, last_used_at FROM api_keys
         WHERE organization_id = ? ORDER BY created_at, id`,
        [organizationId],
      );
    },
    get(id: string): Promise<Omit<ApiKey, 'key_hash'> | undefined> {
      return db.get(
        'SELECT id, organization_id, prefix, created_at, revoked_at, last_used_at FROM api_keys WHERE id = ?',
        [id],
      );
    },
    /** Marks the key revoked; false when there is no such key or it was revoked already. */
    async revoke(id: string, at: string): Promise<boolean> {
      return (
        (await db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) > 0
      );
    },
    async touchLastUsed(id: string, at: string): Promise<void> {
      await db.run(
        'UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
        [at, id, at],
      );
    },
  };
}
