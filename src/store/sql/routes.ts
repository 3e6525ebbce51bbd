import type { RouteRecord } from '../records.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

type Row = Omit<RouteRecord, 'connectors'> & { connectors: string };

const fromRow = (r: Row): RouteRecord => ({ ...r, connectors: parseJson<string[]>(r.connectors, []) });

export function routesRepo(db: SqlExecutor) {
  return {
    async list(): Promise<RouteRecord[]> {
      return (await db.all<Row>('SELECT * FROM profile_routes ORDER BY messaging_profile_id')).map(fromRow);
    },
    async get(profileId: string): Promise<RouteRecord | undefined> {
      const row = await db.get<Row>('SELECT * FROM profile_routes WHERE messaging_profile_id = ?', [
        profileId,
      ]);
      return row && fromRow(row);
    },
    /** Whether a messaging profile of any organization has this id (routes are the operator's). */
    async profileExists(profileId: string): Promise<boolean> {
      return (
        (await db.get('SELECT 1 AS one FROM messaging_profiles WHERE id = ?', [profileId])) !== undefined
      );
    },
    async set(route: RouteRecord): Promise<void> {
      await db.run(
        `INSERT INTO profile_routes (messaging_profile_id, connectors, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (messaging_profile_id) DO UPDATE SET connectors = excluded.connectors, updated_at = excluded.updated_at`,
        [route.messaging_profile_id, JSON.stringify(route.connectors), route.updated_at],
      );
    },
  };
}
