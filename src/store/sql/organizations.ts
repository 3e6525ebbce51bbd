import type { ApiKey, Organization } from '../records.ts';
import type { SqlExecutor } from './driver.ts';

export function organizationsRepo(db: SqlExecutor) {
  return {
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
    async create(key: ApiKey): Promise<void> {
      await db.run(
        'INSERT INTO api_keys (id, organization_id, key_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)',
        [key.id, key.organization_id, key.key_hash, key.created_at, key.revoked_at],
      );
    },
    /** Key ids and creation times of an organization, never the hashes. */
    listForOrganization(organizationId: string): Promise<Array<Omit<ApiKey, 'key_hash'>>> {
      return db.all<Omit<ApiKey, 'key_hash'>>(
        'SELECT id, organization_id, created_at, revoked_at FROM api_keys WHERE organization_id = ? ORDER BY created_at, id',
        [organizationId],
      );
    },
    findActiveByHash(hash: string): Promise<ApiKey | undefined> {
      return db.get<ApiKey>(
        'SELECT id, organization_id, key_hash, created_at, revoked_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL',
        [hash],
      );
    },
  };
}
