import type { SqlDriver, SqlExecutor } from '../../src/store/sql/driver.ts';

export interface Statement {
  sql: string;
  /** Rows returned (all/get) or changed (run). */
  rows: number;
  /** Which transaction it ran in (0: none). */
  tx: number;
}

/** A driver that records every statement and transaction, to show what ran in one statement. */
export function countingDriver(inner: SqlDriver): {
  driver: SqlDriver;
  statements: Statement[];
  /** From now on every statement fails, as if the process had died: nothing more reaches the database. */
  sever(): void;
} {
  const statements: Statement[] = [];
  let txCount = 0;
  let severed = false;
  const check = () => {
    if (severed) throw new Error('connection severed');
  };
  const wrap = (ex: SqlExecutor, tx: number): SqlExecutor => ({
    async all<T>(sql: string, params?: unknown[]) {
      check();
      const rows = await ex.all<T>(sql, params);
      statements.push({ sql, rows: rows.length, tx });
      return rows;
    },
    async get<T>(sql: string, params?: unknown[]) {
      check();
      const row = await ex.get<T>(sql, params);
      statements.push({ sql, rows: row === undefined ? 0 : 1, tx });
      return row;
    },
    async run(sql: string, params?: unknown[]) {
      check();
      const changed = await ex.run(sql, params);
      statements.push({ sql, rows: changed, tx });
      return changed;
    },
  });
  const direct = wrap(inner, 0);
  const driver: SqlDriver = {
    dialect: inner.dialect,
    all: direct.all,
    get: direct.get,
    run: direct.run,
    transaction: async (fn) => {
      check();
      const id = ++txCount;
      return inner.transaction((tx) => fn(wrap(tx, id)));
    },
    migrate: () => inner.migrate(),
    close: () => inner.close(),
    ...(inner.listen ? { listen: inner.listen.bind(inner) } : {}),
  };
  return {
    driver,
    statements,
    sever: () => {
      severed = true;
    },
  };
}
