import path from 'node:path';
import Database from 'better-sqlite3';
import { loadMigrations } from '../migrations/load-migrations.ts';
import { ensurePrivateDir, ensurePrivateFile, tightenExistingFiles } from '../private-files.ts';
import type { SqlDriver, SqlExecutor } from '../sql/driver.ts';
import { createGroupCommitter } from './group-commit.ts';
import { Mutex } from './mutex.ts';
import { startWalCheckpointer } from './wal-checkpointer.ts';

type Db = Database.Database;

function toSqlite(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function bind(params: unknown[] | undefined): unknown[] {
  return params ? params.map(toSqlite) : [];
}

class StatementCache {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Db) {}
  get(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }
}

function syncExecutor(statements: StatementCache): SqlExecutor {
  return {
    async all<T>(sql: string, params?: unknown[]) {
      return statements.get(sql).all(...bind(params)) as T[];
    },
    async get<T>(sql: string, params?: unknown[]) {
      return statements.get(sql).get(...bind(params)) as T | undefined;
    },
    async run(sql: string, params?: unknown[]) {
      return statements.get(sql).run(...bind(params)).changes;
    },
  };
}

/**
 * SQLite in WAL mode with synchronous=NORMAL: a committed transaction survives a crash of the
 * process (not necessarily a power cut). One connection; transactions are serialised by a mutex so
 * an async transaction never sees another's statements, and grouped into shared commits.
 */
export interface SqliteOptions {
  /**
   * Checkpoint the WAL from a worker thread (the gateway's store); the main connection then
   * checkpoints only if that falls far behind. Off for short-lived stores (tests, CLI commands).
   */
  backgroundCheckpoints?: boolean;
}

export function openSqlite(file: string, opts: SqliteOptions = {}): SqlDriver {
  if (file !== ':memory:') {
    ensurePrivateDir(path.dirname(file));
    // Created 0600 before SQLite opens it: SQLite would create it 0644 (less the umask), and gives
    // the WAL and shared-memory files the database file's mode.
    ensurePrivateFile(file);
    tightenExistingFiles([`${file}-wal`, `${file}-shm`, `${file}-journal`]);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Checkpoint every ~40 MB of WAL rather than every ~4 MB: a page rewritten many times between
  // checkpoints is copied to the database once, and fewer commits pay for a checkpoint. With
  // background checkpoints, the main connection's own is only a backstop (~400 MB).
  const checkpointer = opts.backgroundCheckpoints && file !== ':memory:' ? startWalCheckpointer(file) : null;
  db.pragma(`wal_autocheckpoint = ${checkpointer ? 100_000 : 10_000}`);
  db.pragma('busy_timeout = 5000');
  // 64 MiB of page cache instead of 2 MiB: the hot index pages stay in memory under load.
  db.pragma('cache_size = -65536');
  // Savepoints (one per transaction in a group commit) keep their sub-journal in memory, not in a
  // temporary file.
  db.pragma('temp_store = MEMORY');
  db.pragma('foreign_keys = ON');
  const statements = new StatementCache(db);
  const inner = syncExecutor(statements);
  const mutex = new Mutex();

  const transaction = createGroupCommitter(db, mutex, inner);

  // Outside a transaction a read runs at once (waiting its turn while a transaction is open, so it
  // never sees another caller's uncommitted writes); a write joins the next group commit instead of
  // paying for a commit of its own.
  const outside = <R>(sql: string, fn: (ex: SqlExecutor) => Promise<R>): Promise<R> => {
    if (!statements.get(sql).readonly) return transaction(fn);
    return mutex.locked ? mutex.run(() => fn(inner)) : fn(inner);
  };

  return {
    dialect: 'sqlite',
    all: <T>(sql: string, params?: unknown[]) => outside(sql, (ex) => ex.all<T>(sql, params)),
    get: <T>(sql: string, params?: unknown[]) => outside(sql, (ex) => ex.get<T>(sql, params)),
    run: (sql: string, params?: unknown[]) => outside(sql, (ex) => ex.run(sql, params)),
    transaction,
    async migrate() {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)',
      );
      const done = new Set(
        (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map(
          (r) => r.version,
        ),
      );
      for (const m of loadMigrations('sqlite')) {
        if (done.has(m.version)) continue;
        db.transaction(() => {
          db.exec(m.sql);
          db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(m.version, m.name);
        })();
      }
    },
    async close() {
      await checkpointer?.stop();
      await mutex.run(() => db.close());
    },
  };
}
