import pg from 'pg';
import { loadMigrations } from '../migrations/load-migrations.ts';
import type { SqlDriver, SqlExecutor } from '../sql/driver.ts';
import { createListener } from './listener.ts';
import { migratePostgres } from './migrate.ts';
import { cachedToPositional, preparedNames } from './placeholders.ts';
import { withTransaction } from './transaction.ts';

export interface PostgresDriver extends SqlDriver {
  /** Subscribes to NOTIFYs on `channel`; resolves to the unsubscribe function once listening. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string): Promise<void>;
}

const INT8_OID = 20;

// BIGINT ids and epoch milliseconds fit a JS number; anything larger would be silently rounded.
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} does not fit a JavaScript number`);
  return n;
}

function toPostgres(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

/** PostgreSQL's "cached plan must not change result type", after a table changed under a prepared statement. */
const isStalePlan = (err: unknown) =>
  (err as { code?: string }).code === '0A000' && /cached plan/.test(String((err as Error).message));

function executor(
  db: Queryable,
  translate: (sql: string) => string,
  prepared: ReturnType<typeof preparedNames>,
): SqlExecutor {
  const query = async <T>(sql: string, params?: unknown[]) => {
    const text = translate(sql);
    const values = params?.map(toPostgres);
    const name = values && values.length > 0 ? prepared.nameOf(text) : undefined;
    if (name === undefined) return db.query<T & pg.QueryResultRow>(text, values);
    try {
      return await db.query<T & pg.QueryResultRow>({ name, text, values });
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      prepared.forget(text);
      return db.query<T & pg.QueryResultRow>(text, values);
    }
  };
  return {
    async all<T>(sql: string, params?: unknown[]) {
      return (await query<T>(sql, params)).rows;
    },
    async get<T>(sql: string, params?: unknown[]) {
      return (await query<T>(sql, params)).rows[0];
    },
    async run(sql: string, params?: unknown[]) {
      return (await query(sql, params)).rowCount ?? 0;
    },
  };
}

/** An executor that refuses work once its transaction has ended, instead of running outside it. */
function scopedTo(inner: SqlExecutor, isOpen: () => boolean): SqlExecutor {
  const check = () => {
    if (!isOpen()) throw new Error('transaction already finished');
  };
  return {
    async all<T>(sql: string, params?: unknown[]) {
      check();
      return inner.all<T>(sql, params);
    },
    async get<T>(sql: string, params?: unknown[]) {
      check();
      return inner.get<T>(sql, params);
    },
    async run(sql: string, params?: unknown[]) {
      check();
      return inner.run(sql, params);
    },
  };
}

/**
 * PostgreSQL through a node-postgres pool. BIGINT comes back as a number for this pool only; the
 * global pg type parsers are left alone.
 */
export async function openPostgres(url: string, opts: { poolSize?: number } = {}): Promise<PostgresDriver> {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, parseInt8);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    types,
    application_name: 'mms-gateway',
  });
  // An idle client whose connection dies is dropped by the pool; without a listener the 'error'
  // event would crash the process. The next query opens a fresh connection or fails on its own.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end();
    throw err;
  }

  const translate = cachedToPositional();
  const prepared = preparedNames();
  const direct = executor(pool, translate, prepared);
  const listener = createListener({
    connectionString: url,
    types,
    application_name: 'mms-gateway-listener',
    keepAlive: true,
  });
  let closing: Promise<void> | undefined;

  return {
    dialect: 'postgres',
    all: direct.all,
    get: direct.get,
    run: direct.run,
    transaction(fn) {
      return withTransaction(pool, async (client) => {
        let open = true;
        try {
          return await fn(scopedTo(executor(client, translate, prepared), () => open));
        } finally {
          open = false;
        }
      });
    },
    migrate: () => migratePostgres(pool, loadMigrations('postgres')),
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    async notify(channel) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, '']);
    },
    close() {
      closing ??= listener.close().then(() => pool.end());
      return closing;
    },
  };
}
