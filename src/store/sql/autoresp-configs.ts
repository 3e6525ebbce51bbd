import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

export type AutorespOp = 'start' | 'stop' | 'info';

/** One auto-response setting of a messaging profile. Keywords are kept upper case. */
export interface AutorespConfigRecord {
  id: string;
  organization_id: string;
  messaging_profile_id: string;
  op: AutorespOp;
  keywords: string[];
  country_code: string;
  resp_text: string | null;
  created_at: string;
  updated_at: string;
}

export interface AutorespConfigFilter {
  countryCode?: string;
  createdGte?: string;
  createdLte?: string;
  updatedGte?: string;
  updatedLte?: string;
}

interface Row extends Omit<AutorespConfigRecord, 'keywords'> {
  keywords: string;
}

const fromRow = (r: Row): AutorespConfigRecord => ({ ...r, keywords: parseJson<string[]>(r.keywords, []) });

export function autorespConfigsRepo(db: SqlExecutor) {
  return {
    async insert(c: AutorespConfigRecord): Promise<void> {
      await db.run(
        `INSERT INTO autoresp_configs (id, organization_id, messaging_profile_id, op, keywords, country_code, resp_text, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          c.id,
          c.organization_id,
          c.messaging_profile_id,
          c.op,
          JSON.stringify(c.keywords),
          c.country_code,
          c.resp_text,
          c.created_at,
          c.updated_at,
        ],
      );
    },
    async get(
      organizationId: string,
      messagingProfileId: string,
      id: string,
    ): Promise<AutorespConfigRecord | undefined> {
      const row = await db.get<Row>(
        'SELECT * FROM autoresp_configs WHERE id = ? AND messaging_profile_id = ? AND organization_id = ?',
        [id, messagingProfileId, organizationId],
      );
      return row && fromRow(row);
    },
    /** A profile's settings, oldest first. */
    async listForProfile(
      organizationId: string,
      messagingProfileId: string,
      filter: AutorespConfigFilter = {},
    ): Promise<AutorespConfigRecord[]> {
      const where = ['messaging_profile_id = ?', 'organization_id = ?'];
      const params: unknown[] = [messagingProfileId, organizationId];
      const add = (sql: string, value: string | undefined) => {
        if (value === undefined) return;
        where.push(sql);
        params.push(value);
      };
      add('country_code = ?', filter.countryCode);
      add('created_at >= ?', filter.createdGte);
      add('created_at <= ?', filter.createdLte);
      add('updated_at >= ?', filter.updatedGte);
      add('updated_at <= ?', filter.updatedLte);
      const rows = await db.all<Row>(
        `SELECT * FROM autoresp_configs WHERE ${where.join(' AND ')} ORDER BY created_at, id`,
        params,
      );
      return rows.map(fromRow);
    },
    async countForProfile(messagingProfileId: string): Promise<number> {
      const row = await db.get<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM autoresp_configs WHERE messaging_profile_id = ?',
        [messagingProfileId],
      );
      return Number(row?.n ?? 0);
    },
    async update(
      c: Pick<
        AutorespConfigRecord,
        'id' | 'organization_id' | 'messaging_profile_id' | 'op' | 'keywords' | 'country_code' | 'resp_text'
      >,
      updatedAt: string,
    ): Promise<boolean> {
      const changed = await db.run(
        `UPDATE autoresp_configs SET op = ?, keywords = ?, country_code = ?, resp_text = ?, updated_at = ?
         WHERE id = ? AND messaging_profile_id = ? AND organization_id = ?`,
        [
          c.op,
          JSON.stringify(c.keywords),
          c.country_code,
          c.resp_text,
          updatedAt,
          c.id,
          c.messaging_profile_id,
          c.organization_id,
        ],
      );
      return changed > 0;
    },
    async delete(organizationId: string, messagingProfileId: string, id: string): Promise<boolean> {
      const changed = await db.run(
        'DELETE FROM autoresp_configs WHERE id = ? AND messaging_profile_id = ? AND organization_id = ?',
        [id, messagingProfileId, organizationId],
      );
      return changed > 0;
    },
  };
}
