import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const cidrList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every((c) => /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(c)), 'expected comma-separated CIDRs');

const roles = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(z.enum(['api', 'worker'])).min(1));

/** Every setting the gateway reads, with its environment variable name and default. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ROLES: roles.default(['api', 'worker']),
  BOOTSTRAP: bool.default(true),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  QUEUE_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(4 * 3600),
  PREFIX_TABLE_FILE: z.string().optional(),
  RATE_TABLE_FILE: z.string().optional(),
  OUTBOUND_ALLOW_CIDRS: cidrList.default([]),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  WORKER_POLL_MS: z.coerce.number().int().min(5).default(250),
  JOB_LEASE_MS: z.coerce.number().int().min(100).default(60_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  JOB_TIMEOUT_MS: z.coerce.number().int().min(100).default(300_000),
  SIMULATOR_REPORT_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  SIMULATOR_SLOW_REPORT_DELAY_MS: z.coerce.number().int().min(0).default(5000),
  SIMULATOR_CARRIER_DOWN_ATTEMPTS: z.coerce.number().int().min(0).default(2),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  RETRY_SCALE: z.coerce.number().positive().max(1).default(1),
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
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
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
    },
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retryScale: e.RETRY_SCALE,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
  };
}
