/**
 * Reads that handlers started in the same turn of the event loop are made with one query: a claimed batch starts its
 * handlers together, and each asks for its own row first. `readMany` answers the rows it found.
 */
export function batchedRead<V>(
  readMany: (keys: string[]) => Promise<ReadonlyMap<string, V>>,
): (key: string) => Promise<V | undefined> {
  let waiting: Map<string, Array<{ resolve(v: V | undefined): void; reject(e: unknown): void }>> | null =
    null;
  const flush = async (batch: NonNullable<typeof waiting>) => {
    try {
      const found = await readMany([...batch.keys()]);
      for (const [key, callers] of batch) for (const c of callers) c.resolve(found.get(key));
    } catch (err) {
      for (const callers of batch.values()) for (const c of callers) c.reject(err);
    }
  };
  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      if (waiting === null) {
        const batch = new Map<string, Array<{ resolve(v: V | undefined): void; reject(e: unknown): void }>>();
        waiting = batch;
        // After this turn's I/O callbacks, not its microtasks: the handlers of a claim resume from
        // their earlier awaits at different depths, and each would otherwise start a batch of its own.
        setImmediate(() => {
          waiting = null;
          void flush(batch);
        });
      }
      const callers = waiting.get(key) ?? [];
      callers.push({ resolve, reject });
      waiting.set(key, callers);
    });
}
