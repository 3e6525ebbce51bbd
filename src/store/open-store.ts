import path from 'node:path';
import { openSqlite } from './sqlite/sqlite-driver.ts';
import { createStore, type Store } from './store.ts';

/** SQLite under the data dir by default; PostgreSQL when a DATABASE_URL is configured. */
export async function openStore(opts: {
  dataDir: string;
  databaseUrl?: string;
  /** SQLite: checkpoint the WAL from a worker thread (the gateway, not short CLI commands). */
  backgroundCheckpoints?: boolean;
}): Promise<Store> {
  if (opts.databaseUrl) {
    const { openPostgres } = await import('./postgres/postgres-driver.ts');
    const store = createStore(await openPostgres(opts.databaseUrl));
    await store.migrate();
    return store;
  }
  const store = createStore(
    openSqlite(path.join(opts.dataDir, 'gateway.sqlite'), {
      backgroundCheckpoints: opts.backgroundCheckpoints === true,
    }),
  );
  await store.migrate();
  return store;
}
