import type { AutoReplyDeps } from '../../src/optouts/auto-reply.ts';

/** What the inbound intake needs to queue STOP/START/HELP replies, for tests that build it by hand. */
export const testAutoReplyDeps: AutoReplyDeps = {
  lookupNumber: () => ({ carrier: null, line_type: null, country_code: null }),
  rates: null,
  queueLifetimeMs: 60_000,
};
