import type { Page, PageResult, PhoneNumber } from '../records.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

interface Row extends Omit<PhoneNumber, 'tags'> {
  tags: string;
}

const fromRow = (r: Row): PhoneNumber => ({ ...r, tags: parseJson<string[]>(r.tags, []) });

export function numbersRepo(db: SqlExecutor) {
  return {
    async add(n: PhoneNumber): Promise<boolean> {
      const changed = await db.run(
        `INSERT INTO phone_numbers (id, organization_id, phone_number, messaging_profile_id, tags, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (phone_number) DO NOTHING`,
        [
          n.id,
          n.organization_id,
          n.phone_number,
          n.messaging_profile_id,
          JSON.stringify(n.tags),
          n.created_at,
          n.updated_at,
        ],
      );
      return changed > 0;
    },
    async listForOrganization(organizationId: string): Promise<PhoneNumber[]> {
      const rows = await db.all<Row>(
        'SELECT * FROM phone_numbers WHERE organization_id = ? ORDER BY phone_number',
        [organizationId],
      );
      return rows.map(fromRow);
    },
    async findByIdOrNumber(organizationId: string, idOrNumber: string): Promise<PhoneNumber | undefined> {
      const row = await db.get<Row>(
        'SELECT * FROM phone_numbers WHERE organization_id = ? AND (id = ? OR phone_number = ?)',
        [organizationId, idOrNumber, idOrNumber],
      );
      return row && fromRow(row);
    },
    async update(
      organizationId: string,
      id: string,
      fields: { messaging_profile_id: string | null; tags: string[] },
      updatedAt: string,
    ): Promise<void> {
      await db.run(
        'UPDATE phone_numbers SET messaging_profile_id = ?, tags = ?, updated_at = ? WHERE id = ? AND organization_id = ?',
        [fields.messaging_profile_id, JSON.stringify(fields.tags), updatedAt, id, organizationId],
      );
    },
    async listByProfile(
      organizationId: string,
      profileId: string,
      page: Page,
    ): Promise<PageResult<PhoneNumber>> {
      const rows = await db.all<Row>(
        `SELECT * FROM phone_numbers WHERE organization_id = ? AND messaging_profile_id = ?
         ORDER BY phone_number LIMIT ? OFFSET ?`,
        [organizationId, profileId, page.size, (page.number - 1) * page.size],
      );
      const total = await db.get<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM phone_numbers WHERE organization_id = ? AND messaging_profile_id = ?',
        [organizationId, profileId],
      );
      return { items: rows.map(fromRow), total: Number(total?.n ?? 0) };
    },
  };
}
