import type Database from 'better-sqlite3';
import type { SqlExecutor } from '../sql/driver.ts';
import type { Mutex } from './mutex.ts';

interface Pending {
  fn: (tx: SqlExecutor) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 256;

/**
 * Group commit: transactions requested during one event-loop turn run one after another inside a
 * single BEGIN … COMMIT, each in its own SAVEPOINT, so a failing one rolls back only itself. Every
 * caller is answered only after the shared COMMIT, so a resolved transaction is as durable as before;
 * the saving is the per-transaction commit cost, which dominates small writes.
 */
export function createGroupCommitter(db: Database.Database, mutex: Mutex, inner: SqlExecutor) {
  const pending: Pending[] = [];
  // Prepared once: exec() would parse these on every unit of every batch.
  const savepoint = db.prepare('SAVEPOINT unit');
  const release = db.prepare('RELEASE unit');
  const rollbackTo = db.prepare('ROLLBACK TO unit');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  let scheduled = false;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void mutex.run(runBatch);
    });
  };

  async function runBatch(): Promise<void> {
    const batch = pending.splice(0, MAX_BATCH);
    if (pending.length > 0) schedule();
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    try {
      begin.run();
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) {
      savepoint.run();
      try {
        const value = await item.fn(inner);
        release.run();
        outcomes.push({ ok: true, value });
      } catch (err) {
        rollbackTo.run();
        release.run();
        outcomes.push({ ok: false, err });
      }
    }
    try {
      commit.run();
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.err);
    });
  }

  return function transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      schedule();
    });
  };
}
