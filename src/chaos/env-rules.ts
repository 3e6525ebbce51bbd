import { createHash } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { newRuleSeed } from './chaos-engine.ts';
import { type ChaosRuleInput, type ChaosRuleRecord, ruleSignature } from './rules.ts';

/**
 * Stores the CHAOS_RULES of this node's environment, for every organization. A rule's id comes from
 * its place and definition, so nodes started with the same settings share one row (and one count),
 * and a restart keeps what a counted rule has used; rules taken out of CHAOS_RULES are removed.
 */
export async function installEnvChaosRules(
  store: Store,
  rules: ChaosRuleInput[],
  seed: string | undefined,
): Promise<ChaosRuleRecord[]> {
  const now = new Date().toISOString();
  const records = rules.map((input, i): ChaosRuleRecord => {
    const ruleSeed = input.seed ?? newRuleSeed(seed);
    const identity = `${i}|${ruleSignature(input)}|${input.count ?? ''}|${seed === undefined ? 'random' : ruleSeed}`;
    return {
      id: `env-${i + 1}-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}`,
      organization_id: null,
      source: 'env',
      kind: input.kind,
      match: input.match,
      params: input.params,
      probability: input.probability,
      remaining: input.count,
      seed: ruleSeed,
      created_at: now,
    };
  });
  await store.transaction(async (tx) => {
    await tx.chaos.deleteEnvRulesExcept(records.map((r) => r.id));
    for (const r of records) await tx.chaos.insertRule(r);
  });
  return store.chaos.listRules().then((all) => all.filter((r) => r.source === 'env'));
}
