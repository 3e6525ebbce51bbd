import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRateLimiter } from '../../src/tenants/rate-limiter.ts';
import { storesUnderTest } from '../support/databases.ts';

/** Two limiters on one store stand for two nodes: blocks of tokens never let them pass the limit together. */

const WINDOW_MS = 60_000;
const T0 = 1_700_000_040_000; // the start of a window

for (const { name, open } of storesUnderTest()) {
  describe(`rate limiter (${name})`, () => {
    test('two nodes taking blocks admit at most the limit per window, and nearly all of it', async () => {
      const store = await open();
      try {
        const settings = { windowMs: WINDOW_MS, perKey: 100, perOrganization: 0 };
        const nodes = [createRateLimiter(store, settings), createRateLimiter(store, settings)];
        const key = { keyId: 'k1', organizationId: 'o1' };
        let admitted = 0;
        for (let i = 0; i < 300; i++) {
          const decision = await nodes[i % 2]!.check(key, T0 + i);
          if (decision.allowed) admitted++;
          else assert.equal(decision.retryAfterMs, WINDOW_MS - i);
        }
        // Blocks of 5: at most one unspent block per node is lost.
        assert.ok(admitted <= 100, `${admitted} admitted`);
        assert.ok(admitted >= 90, `${admitted} admitted`);

        // The next window starts over.
        const next = await nodes[0]!.check(key, T0 + WINDOW_MS);
        assert.equal(next.allowed, true);
      } finally {
        await store.close();
      }
    });

    test('an exhausted window is refused from memory: no write per refused request', async () => {
      const store = await open();
      try {
        const limiter = createRateLimiter(store, { windowMs: WINDOW_MS, perKey: 2, perOrganization: 0 });
        const key = { keyId: 'k2', organizationId: 'o2' };
        let writes = 0;
        const counting = {
          rateLimits: {
            take: (t: Parameters<typeof store.rateLimits.take>[0]) => {
              writes++;
              return store.rateLimits.take(t);
            },
          },
        };
        const counted = createRateLimiter(counting, { windowMs: WINDOW_MS, perKey: 2, perOrganization: 0 });
        assert.equal((await limiter.check(key, T0)).allowed, true);
        const results = [];
        for (let i = 0; i < 50; i++) results.push((await counted.check(key, T0 + 1 + i)).allowed);
        assert.deepEqual(results.slice(0, 2), [true, false]);
        assert.ok(results.slice(1).every((r) => r === false));
        assert.equal(writes, 2, 'one take that got a token, one that found the window empty');
      } finally {
        await store.close();
      }
    });
  });
}
