/**
 * Chaos rules (sandbox only): what fault to inject, for which messages, and how often. A rule is
 * written as JSON (`{"kind":"webhook.fail","count":2,"status":503}`) or in the compact form
 * `webhook.fail:count=2,status=503`; several compact rules are separated by `;`. Without `count`
 * or `probability` a rule always applies.
 */
import { z } from 'zod';
import { ERRORS } from '../errors/catalogue.ts';

export const CHAOS_KINDS = [
  'webhook.duplicate',
  'webhook.reorder',
  'webhook.delay',
  'webhook.fail',
  'webhook.timeout',
  'carrier.submit_fail',
  'carrier.report_delay',
  'carrier.report_duplicate',
  'carrier.report_drop',
  'carrier.report_reorder',
  'api.reject',
] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

/** Empty: every message. `to` matches a recipient (for a whole-message fault: any recipient). */
export interface ChaosMatch {
  from?: string;
  to?: string;
  profile?: string;
}

export interface ChaosParams {
  /** webhook.delay, carrier.report_delay: the delay is drawn from [min_ms, max_ms]. */
  min_ms?: number;
  max_ms?: number;
  /** webhook.fail: the HTTP status answered instead of the receiver's; api.reject: 429 or 503. */
  status?: number;
  /** webhook.fail by probability: how many first attempts of a chosen event fail. */
  attempts?: number;
  /** carrier.submit_fail: the Telnyx error code, and whether the gateway may retry it. */
  code?: string;
  retryable?: boolean;
  /** carrier.report_reorder: the spacing of the reversed reports. */
  gap_ms?: number;
}

export interface ChaosRuleRecord {
  id: string;
  /** null: the operator's rule (CHAOS_RULES, the CLI), for every organization. */
  organization_id: string | null;
  source: 'env' | 'cli' | 'api';
  kind: ChaosKind;
  match: ChaosMatch;
  params: ChaosParams;
  /** Chance per occurrence, drawn from `seed`; null for a counted rule. */
  probability: number | null;
  /** "The next N": how many injections are left; null for a rule by probability. */
  remaining: number | null;
  seed: string;
  created_at: string;
}

export type ChaosRuleInput = Pick<ChaosRuleRecord, 'kind' | 'match' | 'params' | 'probability'> & {
  count: number | null;
  seed: string | null;
};

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number (+ and digits)');
const ms = z.coerce.number().int().min(0).max(600_000);

/** One rule as given by a person: flat, so that the compact form and JSON are the same thing. */
export const chaosRuleSchema = z
  .object({
    kind: z.enum(CHAOS_KINDS),
    from: e164.optional(),
    to: e164.optional(),
    profile: z.string().min(1).max(100).optional(),
    probability: z.coerce.number().min(0).max(1).optional(),
    count: z.coerce.number().int().min(1).max(1_000_000).optional(),
    seed: z.string().min(1).max(200).optional(),
    min_ms: ms.optional(),
    max_ms: ms.optional(),
    status: z.coerce.number().int().min(100).max(599).optional(),
    attempts: z.coerce.number().int().min(1).max(100).optional(),
    code: z.string().optional(),
    retryable: z
      .union([z.boolean(), z.enum(['true', 'false'])])
      .transform((v) => v === true || v === 'true')
      .optional(),
    gap_ms: ms.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const problem = (message: string, path: string) =>
      ctx.addIssue({ code: 'custom', message, path: [path] });
    if (r.probability !== undefined && r.count !== undefined)
      problem('give probability or count, not both', 'count');
    if (r.kind === 'webhook.delay' || r.kind === 'carrier.report_delay') {
      if (r.max_ms === undefined) problem('a delay needs max_ms', 'max_ms');
      else if ((r.min_ms ?? 0) > r.max_ms) problem('min_ms must not exceed max_ms', 'min_ms');
    }
    if (r.kind === 'api.reject' && r.status !== undefined && r.status !== 429 && r.status !== 503)
      problem('api.reject answers 429 or 503', 'status');
    if (r.kind === 'carrier.submit_fail' && r.code !== undefined && !(r.code in ERRORS))
      problem(`unknown Telnyx error code ${r.code}`, 'code');
  });

export type ChaosRuleSpec = z.input<typeof chaosRuleSchema>;

export class ChaosRuleError extends Error {}

/** A checked rule, ready to store. */
export function parseChaosRule(raw: unknown): ChaosRuleInput {
  const parsed = chaosRuleSchema.safeParse(raw);
  if (!parsed.success) {
    const kind = (raw as { kind?: unknown } | null)?.kind;
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'rule'}: ${i.message}`);
    throw new ChaosRuleError(`chaos rule ${kind === undefined ? '' : `${String(kind)} `}${lines.join('; ')}`);
  }
  const r = parsed.data;
  const match: ChaosMatch = {};
  if (r.from) match.from = r.from;
  if (r.to) match.to = r.to;
  if (r.profile) match.profile = r.profile;
  const params: ChaosParams = {};
  for (const key of ['min_ms', 'max_ms', 'status', 'attempts', 'code', 'retryable', 'gap_ms'] as const) {
    if (r[key] !== undefined) (params as Record<string, unknown>)[key] = r[key];
  }
  if (r.kind === 'webhook.fail') params.status ??= 503;
  if (r.kind === 'api.reject') params.status ??= 503;
  if (r.kind === 'carrier.submit_fail') {
    params.retryable ??= true;
    params.code ??= params.retryable ? '40006' : '40008';
  }
  if (r.kind === 'carrier.report_reorder') params.gap_ms ??= 50;
  return {
    kind: r.kind,
    match,
    params,
    probability: r.count !== undefined ? null : (r.probability ?? 1),
    count: r.count ?? null,
    seed: r.seed ?? null,
  };
}

/** `kind:key=value,key=value` → the flat object chaosRuleSchema reads. */
export function parseCompactRule(text: string): Record<string, string> {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const kind = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const out: Record<string, string> = { kind: kind.trim() };
  if (colon === -1) return out;
  for (const pair of trimmed.slice(colon + 1).split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq === -1)
      throw new ChaosRuleError(`chaos rule ${kind}: expected key=value, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq).trim();
    out[key === 'p' ? 'probability' : key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** CHAOS_RULES: a JSON array (or one JSON object), or compact rules separated by `;`. */
export function parseChaosRules(text: string): ChaosRuleInput[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (err) {
      throw new ChaosRuleError(`not valid JSON: ${(err as Error).message}`);
    }
    return (Array.isArray(json) ? json : [json]).map(parseChaosRule);
  }
  return trimmed
    .split(';')
    .filter((part) => part.trim() !== '')
    .map((part) => parseChaosRule(parseCompactRule(part)));
}

/** What identifies a rule's draws: its definition, not its (random) id, so two runs draw alike. */
export function ruleSignature(
  rule: Pick<ChaosRuleRecord, 'kind' | 'match' | 'params' | 'probability'>,
): string {
  const sorted = (o: object) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
  return `${rule.kind}|${sorted(rule.match)}|${sorted(rule.params)}|${rule.probability ?? 'count'}`;
}

/** A rule as the API, CLI and logs show it. */
export function renderChaosRule(rule: ChaosRuleRecord) {
  return {
    record_type: 'chaos_rule',
    id: rule.id,
    kind: rule.kind,
    match: rule.match,
    ...rule.params,
    probability: rule.probability,
    remaining: rule.remaining,
    seed: rule.seed,
    scope: rule.organization_id === null ? 'all_organizations' : 'organization',
    source: rule.source,
    created_at: rule.created_at,
  };
}

export function describeChaosRule(rule: ChaosRuleRecord): string {
  const match = Object.entries(rule.match).map(([k, v]) => `${k}=${v}`);
  const params = Object.entries(rule.params).map(([k, v]) => `${k}=${String(v)}`);
  const how = rule.remaining !== null ? `next ${rule.remaining}` : `p=${rule.probability}`;
  return [rule.id, rule.kind, how, ...match, ...params].join(' ');
}
