import type { Store } from '../store/store.ts';
import type { AuthenticatedKey } from './api-keys.ts';

export interface RateLimitSettings {
  windowMs: number;
  /** Requests per window per API key; 0 turns the limit off. */
  perKey: number;
  /** Requests per window per organization (all its keys together); 0 turns the limit off. */
  perOrganization: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  check(key: AuthenticatedKey, now?: number): Promise<RateLimitDecision>;
}

interface LocalBlock {
  windowStart: number;
  tokens: number;
  /** The shared window had no more to give: refuse until it ends without asking the database. */
  exhausted: boolean;
}

/**
 * Fixed-window limits shared by every node through one row per bucket. A node takes tokens from the
 * shared row in blocks (a twentieth of the limit, at least 1) and spends them locally, so a busy key
 * costs one small write per block, not per request. Blocks are never over-granted: all nodes
 * together admit at most the limit per window; a node's unspent block can make another refuse a
 * little early. Once the shared row is empty a node refuses from memory until the window ends.
 */
export function createRateLimiter(
  store: Pick<Store, 'rateLimits'>,
  settings: RateLimitSettings,
): RateLimiter {
  const blocks = new Map<string, LocalBlock>();
  const blockSize = (limit: number) => Math.max(1, Math.floor(limit / 20));

  return {
    async check(key, now = Date.now()) {
      const windowStart = Math.floor(now / settings.windowMs) * settings.windowMs;
      const retryAfterMs = windowStart + settings.windowMs - now;
      const buckets = [
        { name: `key:${key.keyId}`, limit: settings.perKey },
        { name: `org:${key.organizationId}`, limit: settings.perOrganization },
      ].filter((b) => b.limit > 0);
      if (buckets.length === 0) return { allowed: true };

      const current = (name: string) => {
        const block = blocks.get(name);
        return block && block.windowStart >= windowStart ? block : undefined;
      };
      if (buckets.some((b) => current(b.name)?.exhausted && current(b.name)!.tokens === 0)) {
        return { allowed: false, retryAfterMs };
      }
      const empty = buckets.filter((b) => (current(b.name)?.tokens ?? 0) === 0);
      if (empty.length > 0) {
        const rows = await store.rateLimits.take(
          empty.map((b) => ({ bucket: b.name, windowStart, take: blockSize(b.limit) })),
        );
        if (blocks.size >= 100_000) blocks.clear();
        for (const b of empty) {
          const row = rows.find((r) => r.bucket === b.name)!;
          const size = blockSize(b.limit);
          const granted = Math.min(size, Math.max(0, b.limit - (row.used - size)));
          const block = current(b.name);
          blocks.set(b.name, {
            windowStart: row.window_start,
            tokens: (block?.tokens ?? 0) + granted,
            exhausted: granted < size,
          });
        }
      }
      if (buckets.some((b) => (current(b.name)?.tokens ?? 0) === 0)) return { allowed: false, retryAfterMs };
      for (const b of buckets) current(b.name)!.tokens -= 1;
      return { allowed: true };
    },
  };
}
