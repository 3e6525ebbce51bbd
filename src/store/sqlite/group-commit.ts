import type Database from 'better-sqlite3';
import type { SqlExecutor } from '../sql/driver.ts';
import type { Mutex } from './mutex.ts';

interface Pending {
  fn: (tx: SqlExecutor) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

const MAX_BATCH = 256;

/**
 * Group commit: transactions requested during one event-loop turn run one after another inside a
 * single BEGIN … COMMIT, each in its own SAVEPOINT, so a failing one rolls back only itself. Every
 * caller is answered only after the shared COMMIT, so a resolved transaction is as durable as before;
 * the saving is the per-transaction commit cost, which dominates small writes.
 *
 * When the savepoint machinery itself fails (SAVEPOINT, ROLLBACK TO or RELEASE throws), the batch's
 * state can no longer be trusted: the whole transaction is rolled back and every caller of the batch
 * is rejected (with its own error if its unit had failed, with the machinery's error otherwise).
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
      // runBatch answers every caller itself and never rejects.
      void mutex.run(runBatch);
    });
  };

  /** Runs every unit in its savepoint; throws only when the transaction itself is broken. */
  async function runUnits(batch: Pending[], outcomes: Outcome[]): Promise<void> {
    for (const item of batch) {
      savepoint.run();
      let outcome: Outcome;
      try {
        outcome = { ok: true, value: await item.fn(inner) };
      } catch (err) {
        outcome = { ok: false, err };
      }
      outcomes.push(outcome);
      if (!outcome.ok) rollbackTo.run();
      release.run();
    }
  }

  function rollbackQuietly(): void {
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } catch {
      // Nothing more to undo: SQLite drops a transaction it cannot roll back.
    }
  }

  async function runBatch(): Promise<void> {
    const batch = pending.splice(0, MAX_BATCH);
    if (pending.length > 0) schedule();
    if (batch.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      begin.run();
      await runUnits(batch, outcomes);
      commit.run();
    } catch (err) {
      rollbackQuietly();
      batch.forEach((item, i) => {
        const own = outcomes[i];
        item.reject(own && !own.ok ? own.err : err);
      });
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
