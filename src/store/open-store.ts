import path from 'node:path';
import { openSqlite } from './sqlite/sqlite-driver.ts';
import { createStore, type Store } from './store.ts';

/** SQLite under the data dir by default; PostgreSQL when a DATABASE_URL is configured. */
export async function openStore(opts: { dataDir: string; databaseUrl?: string }): Promise<Store> {
  if (opts.databaseUrl) {
    const { openPostgres } = await import('./postgres/postgres-driver.ts');
    const store = createStore(await openPostgres(opts.databaseUrl));
    await store.migrate();
    return store;
  }
  const store = createStore(openSqlite(path.join(opts.dataDir, 'gateway.sqlite')));
  await store.migrate();
  return store;
}
