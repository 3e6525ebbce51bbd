import type { Store } from '../store/store.ts';

/** What a refused sender is told to wait before trying again. */
export const QUEUE_FULL_RETRY_AFTER_MS = 10_000;
/** A count well under the cap (below this share of it) is trusted for REUSE_MS without a query. */
const FAR_BELOW = 0.8;
const REUSE_MS = 1000;

/**
 * The per-organization cap on messages waiting to be sent (their `message.send` jobs, on every node).
 * Cheap: the count stops at the cap (an index range, never the whole queue), and a count far below
 * the cap (plus this node's sends since), or one at it, is reused for a second; only near the cap
 * is every send counted. Other nodes' sends of that second are seen at the next count.
 */
export interface QueueCap {
  /** Null when the organization may queue one more message, else how long to wait. */
  refusal(organizationId: string): Promise<{ retryAfterMs: number } | null>;
}

export function createQueueCap(store: Store, max: number, now: () => number = Date.now): QueueCap {
  const seen = new Map<string, { count: number; at: number }>();
  // One count per organization at a time: the requests that find the count stale together share it
  // (else every request in flight at that moment counted).
  const counting = new Map<string, Promise<number>>();
  const countOf = (organizationId: string) => {
    let pending = counting.get(organizationId);
    if (!pending) {
      pending = store.throughput.queuedSends(organizationId, max).then(
        (count) => {
          counting.delete(organizationId);
          if (seen.size > 10_000) seen.clear();
          seen.set(organizationId, { count, at: now() });
          return count;
        },
        (err: unknown) => {
          counting.delete(organizationId);
          throw err;
        },
      );
      counting.set(organizationId, pending);
    }
    return pending;
  };
  return {
    async refusal(organizationId) {
      if (max <= 0) return null;
      const known = seen.get(organizationId);
      const fresh = known && now() - known.at < REUSE_MS;
      let count: number;
      if (fresh && (known.count < max * FAR_BELOW || known.count >= max)) {
        count = known.count;
      } else {
        await countOf(organizationId);
        count = seen.get(organizationId)?.count ?? 0;
      }
      if (count >= max) return { retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS };
      // Counted as queued from now on (a send refused later only makes the next count sooner).
      const entry = seen.get(organizationId);
      if (entry) entry.count = count + 1;
      else seen.set(organizationId, { count: count + 1, at: now() });
      return null;
    },
  };
}
