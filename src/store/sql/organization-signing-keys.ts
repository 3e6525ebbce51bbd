import type { SqlExecutor } from './driver.ts';

export interface OrganizationSigningKeyRow {
  id: string;
  organization_id: string;
  private_key_pem: string;
  public_key: string;
  created_at: string;
  active_from: string;
  retired_at: string | null;
}

export function organizationSigningKeysRepo(db: SqlExecutor) {
  return {
    /** The organization's first key, with the organization's id as its id: concurrent callers agree on one. */
    async insertFirst(row: Omit<OrganizationSigningKeyRow, 'id' | 'retired_at'>): Promise<void> {
      await db.run(
        `INSERT INTO organization_signing_keys (id, organization_id, private_key_pem, public_key, created_at, active_from, retired_at)
         VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (id) DO NOTHING`,
        [
          row.organization_id,
          row.organization_id,
          row.private_key_pem,
          row.public_key,
          row.created_at,
          row.active_from,
        ],
      );
    },
    async insert(row: OrganizationSigningKeyRow): Promise<void> {
      await db.run(
        `INSERT INTO organization_signing_keys (id, organization_id, private_key_pem, public_key, created_at, active_from, retired_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [
          row.id,
          row.organization_id,
          row.private_key_pem,
          row.public_key,
          row.created_at,
          row.active_from,
          row.retired_at,
        ],
      );
    },
    /** Keys not retired at `at`, oldest activation first. */
    listUnretired(organizationId: string, at: string): Promise<OrganizationSigningKeyRow[]> {
      return db.all<OrganizationSigningKeyRow>(
        `SELECT * FROM organization_signing_keys
         WHERE organization_id = ? AND (retired_at IS NULL OR retired_at > ?) ORDER BY active_from, created_at`,
        [organizationId, at],
      );
    },
    /** Sets `retired_at` on every key of the organization that would otherwise outlive it. */
    async retireAll(organizationId: string, at: string): Promise<void> {
      await db.run(
        `UPDATE organization_signing_keys SET retired_at = ?
         WHERE organization_id = ? AND (retired_at IS NULL OR retired_at > ?)`,
        [at, organizationId, at],
      );
    },
    async organizationsWithoutKey(): Promise<string[]> {
      const rows = await db.all<{ id: string }>(
        `SELECT o.id FROM organizations o
         WHERE NOT EXISTS (SELECT 1 FROM organization_signing_keys k WHERE k.organization_id = o.id)`,
      );
      return rows.map((r) => r.id);
    },
  };
}
