/** The small surface the repositories need from a database. SQL uses `?` placeholders. */
export interface SqlExecutor {
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  /** Runs `fn` in one transaction: all of its writes commit together or not at all. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** PostgreSQL only: calls `onNotify` on every NOTIFY on `channel`, with its payload; resolves to an unsubscribe. */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
}
