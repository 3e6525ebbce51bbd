import type { ConnectorRecord } from '../records.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

type Row = Omit<ConnectorRecord, 'settings'> & { settings: string };

const fromRow = (r: Row): ConnectorRecord => ({ ...r, settings: parseJson(r.settings, {}) });

export function connectorsRepo(db: SqlExecutor) {
  return {
    async list(): Promise<ConnectorRecord[]> {
      return (await db.all<Row>('SELECT * FROM connectors ORDER BY name')).map(fromRow);
    },
    async get(name: string): Promise<ConnectorRecord | undefined> {
      const row = await db.get<Row>('SELECT * FROM connectors WHERE name = ?', [name]);
      return row && fromRow(row);
    },
    /** False when a connector of that name exists already. */
    async add(c: ConnectorRecord): Promise<boolean> {
      const changed = await db.run(
        `INSERT INTO connectors (name, type, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING`,
        [c.name, c.type, JSON.stringify(c.settings), c.created_at, c.updated_at],
      );
      return changed > 0;
    },
    async remove(name: string): Promise<boolean> {
      return (await db.run('DELETE FROM connectors WHERE name = ?', [name])) > 0;
    },
  };
}
