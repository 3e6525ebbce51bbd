interface Call<A, R> {
  arg: A;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/**
 * Calls made in the same turn of the event loop (by the handlers a claim or a batch started
 * together) are made as one: `many` gets every call's argument and answers each, in order. If it
 * throws, each call is made again alone, so only a failing one fails: `many` must be all or nothing
 * (one statement, or one transaction).
 */
export function batchedCalls<A, R>(many: (args: A[]) => Promise<R[]>): (arg: A) => Promise<R> {
  let waiting: Array<Call<A, R>> | null = null;

  const alone = (call: Call<A, R>) =>
    many([call.arg]).then((results) => call.resolve(results[0] as R), call.reject);

  const flush = async (batch: Array<Call<A, R>>) => {
    if (batch.length === 1) return alone(batch[0]!);
    let results: R[];
    try {
      results = await many(batch.map((c) => c.arg));
    } catch {
      await Promise.all(batch.map(alone));
      return;
    }
    for (const [i, call] of batch.entries()) call.resolve(results[i] as R);
  };

  return (arg) =>
    new Promise<R>((resolve, reject) => {
      if (waiting === null) {
        const batch: Array<Call<A, R>> = [];
        waiting = batch;
        setImmediate(() => {
          waiting = null;
          void flush(batch);
        });
      }
      waiting.push({ arg, resolve, reject });
    });
}
