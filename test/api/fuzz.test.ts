import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { prepareFuzzTarget, runFuzz, summarize } from '../support/fuzz-requests.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * A short run of `npm run fuzz` (which sends 100,000 and more): generated requests on every route,
 * over real HTTP, on this run's store. No input may get a 5xx, and the gateway must still serve a
 * valid message at the end. The seed is printed so a failure can be replayed with FUZZ_SEED.
 */

const COUNT = Number(process.env.FUZZ_TEST_COUNT ?? 2_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

let gw: TestGateway;

before(async () => {
  // Unauthenticated floods are refused per address (429) before anything else: off here, so the
  // generated requests reach every route instead of the limiter.
  gw = await startTestGateway({ env: { AUTH_FAILURES_PER_IP_PER_MINUTE: '0' } });
});

after(async () => {
  await gw?.close();
});

test(`${COUNT} generated requests on every route: no 5xx, and the gateway is alive at the end`, async (t) => {
  const target = await prepareFuzzTarget(gw.url, gw.apiKey, { profileId: gw.profileId, numbers: gw.numbers });
  const report = await runFuzz(target, { count: COUNT, seed: SEED, concurrency: 8 });
  t.diagnostic(`seed ${SEED}: ${summarize(report)}`);
  assert.equal(report.fiveXx, 0, `seed ${SEED}: ${JSON.stringify(report.examples, null, 1)}`);
  assert.ok(report.alive, 'the gateway still answers /health and accepts a valid message');
  assert.ok(report.count >= COUNT * 0.9, `only ${report.count} of ${COUNT} requests reached the gateway`);
  // The run covered the ground: refusals of several kinds and some acceptances.
  for (const status of ['200', '400', '401', '404'])
    assert.ok(report.byStatus[status], `no ${status} answers`);
});
