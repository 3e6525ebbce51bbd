import path from 'node:path';
import { z } from 'zod';
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

/** A number setting; the message quotes what was typed, not NaN. */
const num = () => z.coerce.number({ error: 'expected a number' });

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
  SIMULATOR_REPORT_DELAY_MS: num().int().min(0).default(1000),
  SIMULATOR_SLOW_REPORT_DELAY_MS: num().int().min(0).default(5000),
  SIMULATOR_CARRIER_DOWN_ATTEMPTS: num().int().min(0).default(2),
  WEBHOOK_TIMEOUT_MS: num().int().min(100).default(10_000),
  RETRY_SCALE: num().positive().max(1).default(1),
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
   * A sandbox on a developer's machine: webhooks and media may go to loopback addresses. Defaults to
   * BOOTSTRAP; production (`BOOTSTRAP=false` or `SANDBOX=false`) keeps the strict outbound guard.
   */
  sandbox: boolean;
  bodyLimitBytes: number;
  queueLifetimeSeconds: number;
  prefixTableFile: string | undefined;
  rateTableFile: string | undefined;
  outboundAllowCidrs: string[];
  worker: { concurrency: number; pollMs: number; leaseMs: number; shutdownGraceMs: number };
  simulator: { reportDelayMs: number; slowReportDelayMs: number; carrierDownAttempts: number };
  webhookTimeoutMs: number;
  /** Multiplies every retry delay: 1 in production, smaller in tests and benchmarks. */
  retryScale: number;
  /**
   * The address the outside world reaches this gateway at (media links, upstream callbacks), without
   * a trailing slash. Unset: the address the API listens on.
   */
  publicUrl: string | undefined;
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
    },
    simulator: {
      reportDelayMs: e.SIMULATOR_REPORT_DELAY_MS,
      slowReportDelayMs: e.SIMULATOR_SLOW_REPORT_DELAY_MS,
      carrierDownAttempts: e.SIMULATOR_CARRIER_DOWN_ATTEMPTS,
    },
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retryScale: e.RETRY_SCALE,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
  };
}
