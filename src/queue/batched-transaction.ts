import type { Repos, Store } from '../store/store.ts';

interface Unit {
  fn: (tx: Repos) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Small transactions that handlers started in the same turn of the event loop ask for (the
 * `sending` marks of a claim's sends, the simulator's book of their submits) are committed as one:
 * one commit on PostgreSQL instead of one each. Each caller is answered after that commit, so what
 * it wrote is as durable as before. If the shared transaction fails (one unit threw, a deadlock),
 * every unit runs again in a transaction of its own, so only a failing unit fails: a unit must
 * touch nothing but the database.
 */
export function batchedTransactions(
  store: Store,
  /** At most this many units share a transaction (many concurrent accepts make several). */
  maxUnits = 64,
): <T>(fn: (tx: Repos) => Promise<T>) => Promise<T> {
  let waiting: Unit[] | null = null;

  const alone = (unit: Unit) => store.transaction(unit.fn).then(unit.resolve, unit.reject);

  const flush = async (batch: Unit[]) => {
    if (batch.length === 1) return alone(batch[0]!);
    let results: unknown[];
    try {
      results = await store.transaction(async (tx) => {
        const out: unknown[] = [];
        for (const unit of batch) out.push(await unit.fn(tx));
        return out;
      });
    } catch {
      await Promise.all(batch.map(alone));
      return;
    }
    for (const [i, unit] of batch.entries()) unit.resolve(results[i]);
  };

  return <T>(fn: (tx: Repos) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      if (waiting === null || waiting.length >= maxUnits) {
        const batch: Unit[] = [];
        waiting = batch;
        setImmediate(() => {
          if (waiting === batch) waiting = null;
          void flush(batch);
        });
      }
      waiting.push({ fn, resolve: resolve as (value: unknown) => void, reject });
    });
}
