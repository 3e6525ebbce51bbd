/**
 * Waits for conditions on stored state (a message reaching a final status, an inbound message
 * arriving) for the sandbox's waiting helpers. One shared poll, not one per waiter: while anyone
 * waits, every `pollMs` each distinct key is read ONCE and every waiter on it checks the value, so a
 * hundred test runners waiting on one message cost one read per tick. A poll rather than an
 * in-process notification because the change may be made by a worker on another node (PostgreSQL),
 * which no event of this process would see; `nudge()` runs a tick at once for callers that do know.
 */
export interface StatusWaiter {
  wait<T>(request: WaitRequest<T>): Promise<{ value: T; timedOut: boolean }>;
  /** Reads again now instead of at the next tick. */
  nudge(): void;
  /** Ends every wait (as timed out, with its last value) and stops the poll. */
  close(): void;
}

export interface WaitRequest<T> {
  /** Waiters with the same key share one read per tick. */
  key: string;
  load(): Promise<T>;
  done(value: T): boolean;
  timeoutMs: number;
  /** The client went away: stop waiting (answers as timed out). */
  signal?: AbortSignal;
}

interface Waiter {
  request: WaitRequest<unknown>;
  last: unknown;
  finish(timedOut: boolean): void;
}

export function createStatusWaiter(opts: { pollMs: number; onError?: (err: unknown) => void }): StatusWaiter {
  const byKey = new Map<string, Set<Waiter>>();
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;
  let again = false;

  const remove = (w: Waiter) => {
    const set = byKey.get(w.request.key);
    set?.delete(w);
    if (set?.size === 0) byKey.delete(w.request.key);
    if (byKey.size === 0 && timer) {
      clearTimeout(timer);
      timer = null;
    }
  };

  const schedule = () => {
    if (timer || byKey.size === 0) return;
    timer = setTimeout(() => {
      timer = null;
      void tick();
    }, opts.pollMs);
  };

  async function tick(): Promise<void> {
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    try {
      for (const [, waiters] of [...byKey]) {
        const first = waiters.values().next().value;
        if (!first) continue;
        let value: unknown;
        try {
          value = await first.request.load();
        } catch (err) {
          opts.onError?.(err);
          continue;
        }
        for (const w of [...waiters]) {
          w.last = value;
          if (w.request.done(value)) w.finish(false);
        }
      }
    } finally {
      ticking = false;
    }
    if (again) {
      again = false;
      void tick();
    } else {
      schedule();
    }
  }

  return {
    async wait<T>(request: WaitRequest<T>) {
      const first = await request.load();
      if (request.done(first) || request.timeoutMs <= 0 || request.signal?.aborted) {
        return { value: first, timedOut: !request.done(first) };
      }
      return new Promise<{ value: T; timedOut: boolean }>((resolve) => {
        let finished = false;
        const w: Waiter = {
          request: request as WaitRequest<unknown>,
          last: first,
          finish(timedOut) {
            if (finished) return;
            finished = true;
            clearTimeout(deadline);
            request.signal?.removeEventListener('abort', onAbort);
            remove(w);
            resolve({ value: w.last as T, timedOut });
          },
        };
        const onAbort = () => w.finish(true);
        // At the deadline, one fresh read: the answer is the state then, not the last tick's.
        const deadline = setTimeout(() => {
          request.load().then(
            (value) => {
              w.last = value;
              w.finish(!request.done(value));
            },
            () => w.finish(true),
          );
        }, request.timeoutMs);
        request.signal?.addEventListener('abort', onAbort, { once: true });
        const set = byKey.get(request.key) ?? new Set<Waiter>();
        set.add(w);
        byKey.set(request.key, set);
        schedule();
      });
    },
    nudge() {
      if (byKey.size === 0) return;
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      void tick();
    },
    close() {
      for (const set of [...byKey.values()]) for (const w of [...set]) w.finish(true);
    },
  };
}
