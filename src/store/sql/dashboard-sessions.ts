import type { SqlExecutor } from './driver.ts';

export interface DashboardSession {
  id_hash: string;
  organization_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export function dashboardSessionsRepo(db: SqlExecutor) {
  return {
    async create(s: DashboardSession): Promise<void> {
      await db.run(
        'INSERT INTO dashboard_sessions (id_hash, organization_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
        [s.id_hash, s.organization_id, s.csrf_token, s.created_at, s.expires_at],
      );
    },
    /** The session, unless it has expired. */
    async get(idHash: string, now: string): Promise<DashboardSession | undefined> {
      return db.get<DashboardSession>(
        'SELECT * FROM dashboard_sessions WHERE id_hash = ? AND expires_at > ?',
        [idHash, now],
      );
    },
    async delete(idHash: string): Promise<void> {
      await db.run('DELETE FROM dashboard_sessions WHERE id_hash = ?', [idHash]);
    },
  };
}
