import path from 'node:path';
import { z } from 'zod';
import { type ChaosRuleInput, parseChaosRules } from '../chaos/rules.ts';
import { parseCidrList } from '../net/cidr.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Comma-separated CIDRs; a bare address is one host (`127.0.0.1` = `127.0.0.1/32`). */
const cidrList = z.string().transform((s, ctx) => {
  try {
    return parseCidrList(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated CIDRs (${(err as Error).message})` });
    return z.NEVER;
  }
});

/** CHAOS_RULES: JSON, or compact rules separated by `;` (src/chaos/rules.ts). */
const chaosRules = z.string().transform((s, ctx) => {
  try {
    return parseChaosRules(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/**
 * A number setting; the message quotes what was typed, not NaN. Only a value that is not a number
 * (or not a whole one, where one is wanted) gets this message: a number out of range keeps zod's,
 * which says the bound.
 */
const num = () =>
  z.coerce.number({
    error: (issue) =>
      issue.code !== 'invalid_type'
        ? undefined
        : issue.expected === 'int'
          ? 'expected a whole number'
          : 'expected a number',
  });

const roles = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(z.enum(['api', 'worker'])).min(1));

/** Every setting the gateway reads, with its environment variable name and default. */
const envSchema = z.object({
  PORT: num().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ROLES: roles.default(['api', 'worker']),
  BOOTSTRAP: bool.default(true),
  SANDBOX: bool.optional(),
  SHOW_ALLOWLISTED_RESPONSE_BODIES: bool.default(false),
  HTTP_HEADERS_TIMEOUT_MS: num().int().min(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: num().int().min(100).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: num().int().min(100).default(10_000),
  BODY_LIMIT_BYTES: num().int().min(1024).default(1_048_576),
  QUEUE_LIFETIME_SECONDS: num()
    .int()
    .min(1)
    .default(4 * 3600),
  PREFIX_TABLE_FILE: z.string().optional(),
  RATE_TABLE_FILE: z.string().optional(),
  OUTBOUND_ALLOW_CIDRS: cidrList.default([]),
  WORKER_CONCURRENCY: num().int().min(1).max(1000).default(32),
  WORKER_POLL_MS: num().int().min(5).default(250),
  JOB_LEASE_MS: num().int().min(100).default(60_000),
  SHUTDOWN_GRACE_MS: num().int().min(0).default(10_000),
  JOB_TIMEOUT_MS: num().int().min(100).default(300_000),
  SIMULATOR_REPORT_DELAY_MS: num().int().min(0).default(1000),
  SIMULATOR_SLOW_REPORT_DELAY_MS: num().int().min(0).default(5000),
  SIMULATOR_CARRIER_DOWN_ATTEMPTS: num().int().min(0).default(2),
  SIMULATOR_REPLY_DELAY_MS: num().int().min(0).default(2000),
  MEDIA_FETCH_BUDGET_MS: num().int().min(100).default(30_000),
  MEDIA_FETCH_CONCURRENCY: num().int().min(1).max(10).default(4),
  WEBHOOK_TIMEOUT_MS: num().int().min(100).default(10_000),
  RETRY_SCALE: num().positive().max(1).default(1),
  API_KEY_CACHE_TTL_MS: num().int().min(0).max(300_000).default(5000),
  RATE_LIMIT_WINDOW_SECONDS: num().int().min(1).max(86_400).default(1),
  RATE_LIMIT_PER_KEY: num().int().min(0).default(200),
  RATE_LIMIT_PER_ORG: num().int().min(0).default(400),
  AUTH_FAILURES_PER_IP_PER_MINUTE: num().int().min(0).default(100),
  DEFAULT_CONNECTOR: z.string().min(1).default('simulator'),
  CONNECTOR_CACHE_MS: num().int().min(0).default(2000),
  CHAOS_RULES: chaosRules.default([]),
  CHAOS_SEED: z.string().min(1).max(200).optional(),
  CHAOS_RECEIPT_DEADLINE_MS: num().int().min(0).default(30_000),
  CONNECTOR_BREAKER_FAILURES: num().int().min(1).max(1000).default(5),
  CONNECTOR_BREAKER_COOLDOWN_MS: num().int().min(100).max(86_400_000).default(30_000),
  MAX_QUEUED_MESSAGES_PER_ORGANIZATION: num().int().min(0).default(100_000),
  PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^/]+(\/.*)?$/, 'must be an http:// or https:// URL')
    .optional(),
});

export type Role = 'api' | 'worker';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: string;
  roles: Role[];
  bootstrap: boolean;
  /**
   * A developer's sandbox (true) or production (false). Defaults to BOOTSTRAP's value. In a sandbox
   * the developer is the operator, so operator-only detail may be shown to the tenant.
   */
  sandbox: boolean;
  /**
   * Show tenants the response bodies of webhook endpoints reached only through OUTBOUND_ALLOW_CIDRS
   * (internal services) in production too. Off by default: those bodies are the operator's.
   */
  showAllowlistedResponseBodies: boolean;
  /** Limits on slow clients: complete headers, complete request (body included), idle keep-alive. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  bodyLimitBytes: number;
  queueLifetimeSeconds: number;
  prefixTableFile: string | undefined;
  rateTableFile: string | undefined;
  outboundAllowCidrs: string[];
  worker: {
    /** Slots of each queue. */
    concurrency: number;
    pollMs: number;
    leaseMs: number;
    shutdownGraceMs: number;
    /** A job still running after this long is aborted and counted as a crash. */
    jobTimeoutMs: number;
  };
  simulator: {
    reportDelayMs: number;
    slowReportDelayMs: number;
    carrierDownAttempts: number;
    /** How long after its delivery the reply-all handset (+1NPA5550107) answers. */
    replyDelayMs: number;
  };
  /** A message's media: all its URLs within one time budget, this many fetched at once. */
  media: { fetchBudgetMs: number; fetchConcurrency: number };
  webhookTimeoutMs: number;
  /** Multiplies every retry delay: 1 in production, smaller in tests and benchmarks. */
  retryScale: number;
  /**
   * The address the outside world reaches this gateway at (media links, upstream callbacks), without
   * a trailing slash. Unset: the address the API listens on.
   */
  publicUrl: string | undefined;
  /** A revoked API key stops working on every node within this. */
  apiKeyCacheTtlMs: number;
  /** Shared by all nodes; 0 turns a limit off. */
  rateLimit: {
    windowMs: number;
    perKey: number;
    perOrganization: number;
    authFailuresPerIpPerMinute: number;
  };
  /** The connector of profiles that have no route. */
  defaultConnector: string;
  /** How long a node keeps connector settings and routes before reading them again. */
  connectorCacheMs: number;
  /**
   * Chaos mode (simulator-carried messages only): fault rules stored at start for every
   * organization, the seed of rules made without one, and when a recipient whose report chaos
   * dropped becomes delivery_unconfirmed.
   */
  chaos: { rules: ChaosRuleInput[]; seed: string | undefined; receiptDeadlineMs: number };
  /** A connector with `failures` retryable submit failures in a row is skipped for `cooldownMs`. */
  connectorBreaker: { failures: number; cooldownMs: number };
  /** Messages of one organization waiting to be sent beyond which sends are refused; 0: no cap. */
  maxQueuedMessagesPerOrganization: number;
}

export class ConfigError extends Error {}

/** Parses settings once, at start-up. A bad value stops start-up with a message naming it. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = i.path.join('.');
      const typed = env[name];
      return typed === undefined
        ? `  ${name}: ${i.message}`
        : `  ${name}=${JSON.stringify(typed)}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    roles: e.ROLES,
    bootstrap: e.BOOTSTRAP,
    sandbox: e.SANDBOX ?? e.BOOTSTRAP,
    showAllowlistedResponseBodies: e.SHOW_ALLOWLISTED_RESPONSE_BODIES,
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    queueLifetimeSeconds: e.QUEUE_LIFETIME_SECONDS,
    prefixTableFile: e.PREFIX_TABLE_FILE,
    rateTableFile: e.RATE_TABLE_FILE,
    outboundAllowCidrs: e.OUTBOUND_ALLOW_CIDRS,
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      pollMs: e.WORKER_POLL_MS,
      leaseMs: e.JOB_LEASE_MS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      jobTimeoutMs: e.JOB_TIMEOUT_MS,
    },
    simulator: {
      reportDelayMs: e.SIMULATOR_REPORT_DELAY_MS,
      slowReportDelayMs: e.SIMULATOR_SLOW_REPORT_DELAY_MS,
      carrierDownAttempts: e.SIMULATOR_CARRIER_DOWN_ATTEMPTS,
      replyDelayMs: e.SIMULATOR_REPLY_DELAY_MS,
    },
    media: { fetchBudgetMs: e.MEDIA_FETCH_BUDGET_MS, fetchConcurrency: e.MEDIA_FETCH_CONCURRENCY },
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retryScale: e.RETRY_SCALE,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    rateLimit: {
      windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000,
      perKey: e.RATE_LIMIT_PER_KEY,
      perOrganization: e.RATE_LIMIT_PER_ORG,
      authFailuresPerIpPerMinute: e.AUTH_FAILURES_PER_IP_PER_MINUTE,
    },
    defaultConnector: e.DEFAULT_CONNECTOR,
    connectorCacheMs: e.CONNECTOR_CACHE_MS,
    chaos: { rules: e.CHAOS_RULES, seed: e.CHAOS_SEED, receiptDeadlineMs: e.CHAOS_RECEIPT_DEADLINE_MS },
    connectorBreaker: { failures: e.CONNECTOR_BREAKER_FAILURES, cooldownMs: e.CONNECTOR_BREAKER_COOLDOWN_MS },
    maxQueuedMessagesPerOrganization: e.MAX_QUEUED_MESSAGES_PER_ORGANIZATION,
  };
}
