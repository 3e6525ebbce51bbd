import type { Page, PageResult } from '../records.ts';
import type { SqlExecutor } from './driver.ts';

/** A block rule: `to_number` opted out of every number of the profile by texting `keyword` to `from_number`. */
export interface OptOutRecord {
  messaging_profile_id: string;
  to_number: string;
  organization_id: string;
  from_number: string;
  keyword: string;
  created_at: string;
}

export interface OptOutFilter {
  messagingProfileId?: string;
  from?: string;
  createdGte?: string;
  createdLte?: string;
}

export function optOutsRepo(db: SqlExecutor) {
  return {
    /** Records the rule; one already there for the number is kept as it was. Returns whether it is new. */
    async add(rule: OptOutRecord): Promise<boolean> {
      const changed = await db.run(
        `INSERT INTO messaging_optouts (messaging_profile_id, to_number, organization_id, from_number, keyword, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (messaging_profile_id, to_number) DO NOTHING`,
        [
          rule.messaging_profile_id,
          rule.to_number,
          rule.organization_id,
          rule.from_number,
          rule.keyword,
          rule.created_at,
        ],
      );
      return changed > 0;
    },
    async remove(messagingProfileId: string, toNumber: string): Promise<boolean> {
      const changed = await db.run(
        'DELETE FROM messaging_optouts WHERE messaging_profile_id = ? AND to_number = ?',
        [messagingProfileId, toNumber],
      );
      return changed > 0;
    },
    /** Which of `numbers` the profile may not send to: one primary-key lookup for all of them. */
    async blockedAmong(messagingProfileId: string, numbers: string[]): Promise<Set<string>> {
      if (numbers.length === 0) return new Set();
      const rows = await db.all<{ to_number: string }>(
        `SELECT to_number FROM messaging_optouts
         WHERE messaging_profile_id = ? AND to_number IN (${numbers.map(() => '?').join(', ')})`,
        [messagingProfileId, ...numbers],
      );
      return new Set(rows.map((r) => r.to_number));
    },
    /** An organization's rules, newest first. */
    async list(organizationId: string, filter: OptOutFilter, page: Page): Promise<PageResult<OptOutRecord>> {
      const where = ['organization_id = ?'];
      const params: unknown[] = [organizationId];
      if (filter.messagingProfileId !== undefined) {
        where.push('messaging_profile_id = ?');
        params.push(filter.messagingProfileId);
      }
      if (filter.from !== undefined) {
        where.push('from_number = ?');
        params.push(filter.from);
      }
      if (filter.createdGte !== undefined) {
        where.push('created_at >= ?');
        params.push(filter.createdGte);
      }
      if (filter.createdLte !== undefined) {
        where.push('created_at <= ?');
        params.push(filter.createdLte);
      }
      const clause = where.join(' AND ');
      const rows = await db.all<OptOutRecord>(
        `SELECT * FROM messaging_optouts WHERE ${clause}
         ORDER BY created_at DESC, to_number DESC LIMIT ? OFFSET ?`,
        [...params, page.size, (page.number - 1) * page.size],
      );
      const total = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM messaging_optouts WHERE ${clause}`,
        params,
      );
      return { items: rows, total: Number(total?.n ?? 0) };
    },
  };
}
