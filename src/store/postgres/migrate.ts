import type pg from 'pg';
import type { Migration } from '../migrations/load-migrations.ts';
import { withTransaction } from './transaction.ts';

// Any fixed number; advisory locks are per database, so it only has to be unique to this program.
const MIGRATION_LOCK_KEY = 7_370_416_381;

/**
 * Applies pending migrations one per transaction. Each transaction first takes a transaction-scoped
 * advisory lock, so nodes starting together apply every migration exactly once, one after another.
 */
export async function migratePostgres(pool: pg.Pool, migrations: Migration[]): Promise<void> {
  let applied = true;
  while (applied) {
    applied = await withTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)',
      );
      const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const versions = new Set(done.rows.map((r) => r.version));
      const next = migrations.find((m) => !versions.has(m.version));
      if (!next) return false;
      await client.query(next.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        next.version,
        next.name,
      ]);
      return true;
    });
  }
}
