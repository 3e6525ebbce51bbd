import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ruleMatches } from '../../src/chaos/chaos-engine.ts';
import { chaosDraw, chaosDrawRange } from '../../src/chaos/draw.ts';
import {
  ChaosRuleError,
  type ChaosRuleRecord,
  parseChaosRules,
  ruleSignature,
} from '../../src/chaos/rules.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

/** Chaos rules as written (JSON and compact), and the seeded draws that make a run replayable. */

test('the compact form and JSON give the same rules, with the defaults filled in', () => {
  const compact = parseChaosRules(
    'webhook.fail:count=2,status=503; webhook.delay:p=0.25,min_ms=10,max_ms=40,to=+13125550100;' +
      'carrier.submit_fail:retryable=false;api.reject:status=429,from=+13125550001;webhook.duplicate',
  );
  const json = parseChaosRules(
    JSON.stringify([
      { kind: 'webhook.fail', count: 2, status: 503 },
      { kind: 'webhook.delay', probability: 0.25, min_ms: 10, max_ms: 40, to: '+13125550100' },
      { kind: 'carrier.submit_fail', retryable: false },
      { kind: 'api.reject', status: 429, from: '+13125550001' },
      { kind: 'webhook.duplicate' },
    ]),
  );
  assert.deepEqual(compact, json);
  assert.deepEqual(compact[0], {
    kind: 'webhook.fail',
    match: {},
    params: { status: 503 },
    probability: null,
    count: 2,
    seed: null,
  });
  assert.deepEqual(compact[1]!.match, { to: '+13125550100' });
  assert.deepEqual(compact[2]!.params, { retryable: false, code: '40008' }, 'permanent: 40008 by default');
  assert.equal(compact[4]!.probability, 1, 'neither count nor probability: always');
  assert.deepEqual(parseChaosRules('  '), []);
});

test('a wrong rule says what is wrong', () => {
  const wrong: Array<[string, RegExp]> = [
    ['webhook.explode', /kind/],
    ['webhook.delay:min_ms=5', /max_ms/],
    ['webhook.delay:min_ms=50,max_ms=5', /min_ms must not exceed max_ms/],
    ['webhook.fail:count=2,p=0.5', /not both/],
    ['api.reject:status=500', /429 or 503/],
    ['carrier.submit_fail:code=99999', /unknown Telnyx error code/],
    ['webhook.fail:to=5551234', /E\.164/],
    ['webhook.fail:colour=red', /colour|Unrecognized/i],
    ['webhook.fail:count', /key=value/],
    ['[{"kind":', /not valid JSON/],
  ];
  for (const [text, reason] of wrong) {
    assert.throws(
      () => parseChaosRules(text),
      (err: unknown) => {
        assert.ok(err instanceof ChaosRuleError, text);
        assert.match(err.message, reason, text);
        return true;
      },
    );
  }
});

test('CHAOS_RULES and CHAOS_SEED are read at start; a bad rule stops start-up naming the setting', () => {
  const config = loadConfig({ CHAOS_RULES: 'webhook.duplicate:p=0.5', CHAOS_SEED: 'ci-7' });
  assert.equal(config.chaos.seed, 'ci-7');
  assert.equal(config.chaos.rules[0]?.kind, 'webhook.duplicate');
  assert.equal(config.chaos.receiptDeadlineMs, 30_000);
  assert.deepEqual(loadConfig({}).chaos.rules, []);
  assert.throws(
    () => loadConfig({ CHAOS_RULES: 'webhook.delay' }),
    (err: unknown) => err instanceof ConfigError && /CHAOS_RULES="webhook.delay".*max_ms/.test(err.message),
  );
});

test('draws depend only on seed, rule and key: the same every time, different for another seed', () => {
  const [rule] = parseChaosRules('webhook.duplicate:p=0.5');
  const sig = ruleSignature(rule!);
  const keys = Array.from({ length: 2000 }, (_, i) => `+1312555${1000 + i}|message.sent|0`);
  const a = keys.map((k) => chaosDraw('seed-a', sig, k));
  assert.deepEqual(
    keys.map((k) => chaosDraw('seed-a', sig, k)),
    a,
  );
  const b = keys.map((k) => chaosDraw('seed-b', sig, k));
  assert.notDeepEqual(b, a);
  assert.ok(a.every((x) => x >= 0 && x < 1));
  const hits = a.filter((x) => x < 0.5).length;
  assert.ok(hits > 850 && hits < 1150, `about half fire: ${hits} of 2000`);
  const picks = keys.map((k) => chaosDrawRange('seed-a', sig, k, 10, 12));
  assert.deepEqual([...new Set(picks)].sort(), [10, 11, 12]);
});

test('a rule matches by sender, recipient and profile; an organization rule only its own', () => {
  const rule = (over: Partial<ChaosRuleRecord>): ChaosRuleRecord => ({
    id: 'r',
    organization_id: null,
    source: 'api',
    kind: 'webhook.fail',
    match: {},
    params: {},
    probability: 1,
    remaining: null,
    seed: 's',
    created_at: '',
    ...over,
  });
  const scene = { organizationId: 'org-1', from: '+13125550001', to: ['+13125550100'], profileId: 'p1' };
  assert.ok(ruleMatches(rule({}), scene));
  assert.ok(ruleMatches(rule({ match: { from: '+13125550001', to: '+13125550100', profile: 'p1' } }), scene));
  assert.ok(!ruleMatches(rule({ match: { from: '+13125550002' } }), scene));
  assert.ok(!ruleMatches(rule({ match: { to: '+13125550101' } }), scene));
  assert.ok(!ruleMatches(rule({ match: { profile: 'p2' } }), scene));
  assert.ok(ruleMatches(rule({ organization_id: 'org-1' }), scene));
  assert.ok(!ruleMatches(rule({ organization_id: 'org-2' }), scene));
});
