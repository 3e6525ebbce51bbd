/**
 * Chaos mode: the rules every node reads from the database, whether a rule fires for one occurrence
 * (a seeded draw, or one of "the next N" taken in the database), and the record of every fault
 * injected. Chaos only ever touches messages whose connector is the simulator.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConnectorDirectory } from '../carriers/connector-directory.ts';
import { uuidV7 } from '../ids/uuid-v7.ts';
import type { Store } from '../store/store.ts';
import { chaosDraw, chaosDrawRange } from './draw.ts';
import type { ChaosKind, ChaosRuleInput, ChaosRuleRecord } from './rules.ts';
import { ruleSignature } from './rules.ts';

/** What a rule's match is compared with. `to` holds one recipient, or every recipient of a message. */
export interface ChaosScene {
  organizationId: string;
  from: string;
  to: string[];
  profileId: string | null;
}

export interface InjectedFault {
  rule: ChaosRuleRecord;
  organizationId: string;
  kind: ChaosKind;
  messageId: string | null;
  recipientId?: string | null;
  webhookEventId?: string | null;
  detail?: Record<string, unknown>;
}

export interface ChaosEngine {
  /** The rules of one family (`webhook.`, `carrier.`, `api.`) that match the scene. */
  rulesFor(family: 'webhook.' | 'carrier.' | 'api.', scene: ChaosScene): Promise<ChaosRuleRecord[]>;
  /**
   * Whether any rule of the family may apply (to the organization, when given): a first look from
   * the cached rules, so traffic without chaos costs no extra read.
   */
  anyRules(family: 'webhook.' | 'carrier.' | 'api.', organizationId?: string): Promise<boolean>;
  /** Whether chaos may touch messages of this profile: only when the simulator is its connector. */
  eligible(profileId: string | null): Promise<boolean>;
  /** Whether the rule fires for the occurrence named by `key`: a seeded draw, or one of its count. */
  fires(rule: ChaosRuleRecord, key: string): Promise<boolean>;
  /** A whole number in [min, max], the same for the same rule and key on every run. */
  pick(rule: ChaosRuleRecord, key: string, min: number, max: number): number;
  /** Records (and logs) an injected fault. */
  record(fault: InjectedFault): Promise<void>;
  /** A message's position among its organization's outbound messages (memoised). */
  ordinal(organizationId: string, messageId: string): Promise<number>;
  /** Stores a rule (API, CLI) and makes this node see it at once. */
  addRule(
    input: ChaosRuleInput,
    owner: { organizationId: string | null; source: 'cli' | 'api' },
  ): Promise<ChaosRuleRecord>;
  /** Forgets cached rules (after a change made through this node). */
  invalidate(): void;
}

export interface ChaosEngineOptions {
  store: Store;
  directory: ConnectorDirectory;
  /** CHAOS_SEED: the seed of rules created without one. Unset: each rule gets a random seed. */
  seed: string | undefined;
  logger?: Pick<Logger, 'info'>;
  /** How long a node keeps the rules before reading them again (changes reach other nodes within it). */
  cacheMs?: number;
}

export const CHAOS_RULES_CACHE_MS = 250;

export function newRuleSeed(configured: string | undefined): string {
  return configured ?? randomBytes(8).toString('hex');
}

/** A rule made through the API or the CLI, ready to store. */
export function newChaosRule(
  input: ChaosRuleInput,
  owner: { organizationId: string | null; source: 'cli' | 'api' },
  configuredSeed: string | undefined,
): ChaosRuleRecord {
  return {
    id: uuidV7(),
    organization_id: owner.organizationId,
    source: owner.source,
    kind: input.kind,
    match: input.match,
    params: input.params,
    probability: input.probability,
    remaining: input.count,
    seed: input.seed ?? newRuleSeed(configuredSeed),
    created_at: new Date().toISOString(),
  };
}

export function ruleMatches(rule: ChaosRuleRecord, scene: ChaosScene): boolean {
  if (rule.organization_id !== null && rule.organization_id !== scene.organizationId) return false;
  const { from, to, profile } = rule.match;
  if (from !== undefined && from !== scene.from) return false;
  if (to !== undefined && !scene.to.includes(to)) return false;
  if (profile !== undefined && profile !== scene.profileId) return false;
  return true;
}

export function createChaosEngine(options: ChaosEngineOptions): ChaosEngine {
  const { store, directory } = options;
  const cacheMs = options.cacheMs ?? CHAOS_RULES_CACHE_MS;
  let cached: { rules: ChaosRuleRecord[]; at: number } | null = null;
  // One read at a time: the jobs that find the cache stale together share it.
  let reading: Promise<ChaosRuleRecord[]> | null = null;
  let changes = 0;
  const ordinals = new Map<string, number>();

  async function allRules(): Promise<ChaosRuleRecord[]> {
    if (cached && Date.now() - cached.at < cacheMs) return cached.rules;
    if (reading) return reading;
    const generation = changes;
    const read = store.chaos.listRules().then((rules) => {
      // A change while it ran (a rule added, used up or removed here) may be missing from it.
      if (generation === changes) cached = { rules, at: Date.now() };
      return rules;
    });
    reading = read;
    read.then(
      () => {
        if (reading === read) reading = null;
      },
      () => {
        if (reading === read) reading = null;
      },
    );
    return read;
  }
  /** Forgets the cached rules and any read in flight. */
  const forget = () => {
    cached = null;
    reading = null;
    changes++;
  };

  return {
    async rulesFor(family, scene) {
      const rules = await allRules();
      if (rules.length === 0) return [];
      return rules.filter((r) => r.kind.startsWith(family) && ruleMatches(r, scene));
    },
    async anyRules(family, organizationId) {
      // A used-up counted rule still counts: while it exists, a recipient's webhooks stay sequenced.
      return (await allRules()).some(
        (r) =>
          r.kind.startsWith(family) &&
          (organizationId === undefined ||
            r.organization_id === null ||
            r.organization_id === organizationId),
      );
    },
    async eligible(profileId) {
      if (profileId === null) return false;
      const [first] = await directory.route(profileId);
      if (first === undefined) return false;
      return (await directory.get(first))?.type === 'simulator';
    },
    async fires(rule, key) {
      if (rule.remaining !== null) {
        // Counts only go down: a rule read as used up is, without asking the database.
        if (rule.remaining === 0) return false;
        const taken = await store.chaos.takeOne(rule.id);
        if (!taken) forget();
        return taken;
      }
      const p = rule.probability ?? 1;
      return p >= 1 || chaosDraw(rule.seed, ruleSignature(rule), key) < p;
    },
    pick(rule, key, min, max) {
      return chaosDrawRange(rule.seed, ruleSignature(rule), key, min, max);
    },
    async record(fault) {
      const at = new Date().toISOString();
      const detail = fault.detail ?? {};
      await store.chaos.insertFault({
        id: uuidV7(),
        rule_id: fault.rule.id,
        organization_id: fault.organizationId,
        message_id: fault.messageId,
        recipient_id: fault.recipientId ?? null,
        webhook_event_id: fault.webhookEventId ?? null,
        kind: fault.kind,
        detail: JSON.stringify(detail),
        created_at: at,
      });
      options.logger?.info(
        {
          chaos_rule: fault.rule.id,
          kind: fault.kind,
          message_id: fault.messageId,
          recipient_id: fault.recipientId ?? undefined,
          webhook_event_id: fault.webhookEventId ?? undefined,
          ...detail,
        },
        'chaos: injected fault',
      );
    },
    async ordinal(organizationId, messageId) {
      const known = ordinals.get(messageId);
      if (known !== undefined) return known;
      const n = await store.chaos.messageOrdinal(organizationId, messageId);
      if (ordinals.size > 10_000) ordinals.clear();
      ordinals.set(messageId, n);
      return n;
    },
    async addRule(input, owner) {
      const rule = newChaosRule(input, owner, options.seed);
      await store.chaos.insertRule(rule);
      forget();
      return rule;
    },
    invalidate() {
      forget();
    },
  };
}
