import type { MessagingProfile, Page, PageResult, ProfileData } from '../records.ts';
import type { Dialect, SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';
import { rowLock } from './row-lock.ts';

interface Row {
  id: string;
  organization_id: string;
  data: string;
  created_at: string;
  updated_at: string;
}

const fromRow = (r: Row): MessagingProfile => ({
  ...r,
  data: parseJson<ProfileData>(r.data, {} as ProfileData),
});

export function profilesRepo(db: SqlExecutor, dialect: Dialect) {
  return {
    async create(p: MessagingProfile): Promise<void> {
      await db.run(
        'INSERT INTO messaging_profiles (id, organization_id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        [p.id, p.organization_id, JSON.stringify(p.data), p.created_at, p.updated_at],
      );
    },
    /**
     * With `lock` inside a transaction, the row stays locked until it ends: `UPDATE` for a
     * read-modify-write, `SHARE` to keep it from being deleted while another row points at it.
     */
    async get(
      organizationId: string,
      id: string,
      lock?: 'UPDATE' | 'SHARE',
    ): Promise<MessagingProfile | undefined> {
      const row = await db.get<Row>(
        `SELECT * FROM messaging_profiles WHERE id = ? AND organization_id = ?${lock ? rowLock(dialect, lock) : ''}`,
        [id, organizationId],
      );
      return row && fromRow(row);
    },
    /** The profile a number of the organization is attached to (undefined if none), in one query. */
    async getBySenderNumber(
      organizationId: string,
      phoneNumber: string,
    ): Promise<MessagingProfile | undefined> {
      const row = await db.get<Row>(
        `SELECT p.* FROM phone_numbers n JOIN messaging_profiles p ON p.id = n.messaging_profile_id
         WHERE n.phone_number = ? AND n.organization_id = ? AND p.organization_id = ?`,
        [phoneNumber, organizationId, organizationId],
      );
      return row && fromRow(row);
    },
    async list(organizationId: string, page: Page): Promise<PageResult<MessagingProfile>> {
      const rows = await db.all<Row>(
        'SELECT * FROM messaging_profiles WHERE organization_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?',
        [organizationId, page.size, (page.number - 1) * page.size],
      );
      const total = await db.get<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM messaging_profiles WHERE organization_id = ?',
        [organizationId],
      );
      return { items: rows.map(fromRow), total: Number(total?.n ?? 0) };
    },
    async update(organizationId: string, id: string, data: ProfileData, updatedAt: string): Promise<boolean> {
      const changed = await db.run(
        'UPDATE messaging_profiles SET data = ?, updated_at = ? WHERE id = ? AND organization_id = ?',
        [JSON.stringify(data), updatedAt, id, organizationId],
      );
      return changed > 0;
    },
    /** The profile, with its opt-out rules and auto-response settings; its numbers are detached. */
    async delete(organizationId: string, id: string): Promise<boolean> {
      await db.run('DELETE FROM messaging_optouts WHERE messaging_profile_id = ? AND organization_id = ?', [
        id,
        organizationId,
      ]);
      await db.run('DELETE FROM autoresp_configs WHERE messaging_profile_id = ? AND organization_id = ?', [
        id,
        organizationId,
      ]);
      await db.run(
        'UPDATE phone_numbers SET messaging_profile_id = NULL WHERE messaging_profile_id = ? AND organization_id = ?',
        [id, organizationId],
      );
      const changed = await db.run('DELETE FROM messaging_profiles WHERE id = ? AND organization_id = ?', [
        id,
        organizationId,
      ]);
      return changed > 0;
    },
  };
}
