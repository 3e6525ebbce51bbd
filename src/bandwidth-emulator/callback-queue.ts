/**
 * The emulator's outgoing callbacks: each posted (post-callback.ts) until acknowledged with a 2xx,
 * retried with a doubling backoff, held while asked to or while the application has no callback
 * URL, optionally sent twice (at-least-once delivery, as Bandwidth warns), and stopped on close.
 */
import type { CallbackEvent } from './events.ts';
import { type CallbackTarget, postCallback } from './post-callback.ts';
import type { SentCallback } from './types.ts';

export interface CallbackQueueOptions {
  retryMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  maxAttempts: number;
  log: (line: string) => void;
}

export function createCallbackQueue(
  application: CallbackTarget & { set: boolean },
  opts: CallbackQueueOptions,
) {
  const callbacks: SentCallback[] = [];
  const held: Array<() => void> = [];
  const closing = new AbortController();
  const tasks = new Set<Promise<void>>();
  let duplicate = false;
  let hold = false;

  /** Resolves when `register`'s callback is called or the queue closes; leaves no listener behind. */
  const until = (register: (done: () => void) => void) =>
    new Promise<void>((resolve) => {
      const done = () => {
        closing.signal.removeEventListener('abort', done);
        resolve();
      };
      register(done);
      closing.signal.addEventListener('abort', done, { once: true });
    });
  // unref: a pending retry never keeps the process up after close.
  const sleep = (ms: number) => until((done) => setTimeout(done, ms).unref());

  async function deliver(events: CallbackEvent[]): Promise<void> {
    const record: SentCallback = { events, attempts: 0, challenges: 0 };
    callbacks.push(record);
    let backoff = opts.retryMs;
    while (!closing.signal.aborted) {
      if (hold || !application.set) {
        await until((done) => held.push(done));
        continue;
      }
      record.attempts++;
      const out = await postCallback(application, events, {
        timeoutMs: opts.timeoutMs,
        signal: closing.signal,
      });
      if (out.challenged) record.challenges++;
      record.lastStatus = out.status;
      record.lastError = out.error;
      if (out.status !== undefined && out.status >= 200 && out.status < 300) {
        record.acknowledgedAt = new Date().toISOString();
        return;
      }
      opts.log(
        `callback ${String(events[0]?.type)} answered ${out.status ?? out.error}; retry in ${backoff} ms`,
      );
      if (record.attempts >= opts.maxAttempts) {
        record.gaveUp = true;
        return;
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, opts.retryMaxMs);
    }
  }

  return {
    callbacks,
    /** Posts one callback (twice when duplicating); resolves once every copy is acknowledged or given up. */
    send(events: CallbackEvent[]): Promise<void> {
      const copies = duplicate ? [deliver(events), deliver(events)] : [deliver(events)];
      return Promise.all(copies).then(() => {});
    },
    /** Runs `work` in the background; close() waits for it. */
    spawn(work: (sleep: (ms: number) => Promise<void>) => Promise<void>): void {
      const task = work(sleep)
        .catch((err: unknown) => opts.log(`callback task failed: ${String(err)}`))
        .finally(() => tasks.delete(task));
      tasks.add(task);
    },
    control(change: { duplicate?: boolean; hold?: boolean }): void {
      if (change.duplicate !== undefined) duplicate = change.duplicate;
      if (change.hold !== undefined) hold = change.hold;
      this.release();
    },
    /** Wakes held callbacks (they wait again if still held or without a URL). */
    release(): void {
      if (!hold) for (const wake of held.splice(0)) wake();
    },
    signal: closing.signal,
    async close(): Promise<void> {
      closing.abort();
      await Promise.allSettled([...tasks]);
    },
  };
}
