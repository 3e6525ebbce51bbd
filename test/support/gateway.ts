import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createLogger } from '../../src/cli/logger.ts';
import { loadConfig } from '../../src/config/config.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { defaultProfileData } from '../../src/profiles/defaults.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { bootstrapSandbox, type SandboxInfo } from '../../src/tenants/bootstrap.ts';
import { createOrganization } from '../../src/tenants/organizations.ts';
import { createTestDatabase, databaseHasOrganizations, type StoreName } from './databases.ts';
import { freePort } from './free-port.ts';

/** The repository root, where `src/cli/main.ts` lives. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_ENTRY = path.join(REPO_ROOT, 'src/cli/main.ts');
/** The built gateway, what `npm start` runs. */
export const BUILT_CLI_ENTRY = path.join(REPO_ROOT, 'dist/cli/main.js');

/**
 * Node's arguments that start the gateway's CLI: from source through tsx, or the build when
 * GATEWAY_FROM_BUILD=1 (the benches, which measure what operators run, after `npm run build`).
 */
export function cliEntryArgs(): string[] {
  return process.env.GATEWAY_FROM_BUILD === '1' ? [BUILT_CLI_ENTRY] : ['--import', 'tsx', CLI_ENTRY];
}

function testStoreFromEnv(): StoreName {
  const value = process.env.TEST_STORE ?? 'sqlite';
  if (value !== 'sqlite' && value !== 'postgres') {
    throw new Error(`TEST_STORE must be sqlite or postgres, not ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The store the gateways of this test process run on: TEST_STORE=sqlite (the default: a SQLite file
 * under each DATA_DIR) or TEST_STORE=postgres (a fresh database on the test PostgreSQL server per
 * DATA_DIR). `npm test` runs test/api and test/pipeline once with each. Read here only; tests ask
 * `TEST_STORE` or go through the helpers below.
 */
export const TEST_STORE: StoreName = testStoreFromEnv();

const databaseByDataDir = new Map<string, Promise<string>>();

/**
 * The PostgreSQL database of the gateways on `dataDir` when TEST_STORE=postgres, created on first
 * use: every gateway, CLI command, seed and reader on one data dir (a restart, a second worker-only
 * gateway) shares it, as they share the SQLite file otherwise. Undefined on SQLite. The databases
 * live until the test server is removed at the end of the run.
 */
export function testDatabaseUrl(dataDir: string): Promise<string | undefined> {
  if (TEST_STORE !== 'postgres') return Promise.resolve(undefined);
  const key = path.resolve(dataDir);
  let url = databaseByDataDir.get(key);
  if (!url) {
    url = createTestDatabase();
    databaseByDataDir.set(key, url);
  }
  return url;
}

/** `{ DATABASE_URL }` for the gateways on `dataDir` under TEST_STORE=postgres; `{}` on SQLite. */
export async function testStoreEnv(dataDir: string): Promise<Record<string, string>> {
  const url = await testDatabaseUrl(dataDir);
  return url ? { DATABASE_URL: url } : {};
}

/** The store of the gateways on `dataDir` (see testDatabaseUrl), opened and migrated. */
export async function openTestStore(dataDir: string): Promise<Store> {
  return openStore({ dataDir, databaseUrl: await testDatabaseUrl(dataDir) });
}

export function makeTempDir(prefix = 'mms-gateway-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Test and benchmark gateways send far faster from one key than the default limits allow, so they
 * run without them unless a test sets RATE_LIMIT_* itself (test/api/rate-limits.test.ts does).
 */
export const RATE_LIMITS_OFF = { RATE_LIMIT_PER_KEY: '0', RATE_LIMIT_PER_ORG: '0' };

export interface TestGateway {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The sandbox organization's API key. */
  apiKey: string;
  organizationId: string;
  profileId: string;
  /** The sandbox sender numbers, all attached to `profileId`. */
  numbers: string[];
  store: Store;
  gateway: Gateway;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Starts the gateway in this process on 127.0.0.1 and an ephemeral port, on the TEST_STORE store of
 * a fresh temp dir (or of `dataDir`), the sandbox bootstrapped, and only the API role unless
 * `env.ROLES` says otherwise; logging to `logger` when given (to read what it logged).
 * `close()` stops it and removes the temp dir it made.
 */
export async function startTestGateway(
  opts: { env?: Record<string, string>; dataDir?: string; logger?: Logger } = {},
): Promise<TestGateway> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? makeTempDir();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    BOOTSTRAP: 'true',
    LOG_LEVEL: 'silent',
    ROLES: 'api',
    ...RATE_LIMITS_OFF,
    ...(await testStoreEnv(dataDir)),
    ...opts.env,
  });
  const gateway = await startGateway(config, opts.logger ?? createLogger(config.logLevel));
  const sandbox = gateway.sandbox;
  if (!sandbox || !gateway.url) {
    await gateway.close();
    throw new Error('startTestGateway needs an empty database and the api role (no sandbox or no url)');
  }
  return {
    url: gateway.url,
    apiKey: sandbox.apiKey,
    organizationId: sandbox.organizationId,
    profileId: sandbox.profileId,
    numbers: sandbox.numbers,
    store: gateway.store,
    gateway,
    dataDir,
    async close() {
      await gateway.close();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Tenant {
  organizationId: string;
  apiKey: string;
  profileId: string;
  numbers: string[];
}

/** A fresh +1312555XXXX number (a fictional range the demo prefix table knows). */
function randomSenderNumber(): string {
  return `+1312555${String(randomInt(1000, 10_000))}`;
}

/**
 * Another organization with its own API key, a messaging profile and `numberCount` sender numbers
 * attached to it, written straight to the store.
 */
export async function createTenant(
  store: Store,
  opts: { name?: string; whitelist?: string[]; numberCount?: number; enabled?: boolean } = {},
): Promise<Tenant> {
  const name = opts.name ?? `Tenant ${randomUUID().slice(0, 8)}`;
  const { organizationId, apiKey } = await createOrganization(store, name);
  const profileId = randomUUID();
  const now = new Date().toISOString();
  await store.profiles.create({
    id: profileId,
    organization_id: organizationId,
    data: {
      ...defaultProfileData(`${name} profile`, opts.whitelist ?? ['*']),
      enabled: opts.enabled ?? true,
    },
    created_at: now,
    updated_at: now,
  });
  const numbers: string[] = [];
  while (numbers.length < (opts.numberCount ?? 2)) {
    numbers.push((await addNumber(store, organizationId, profileId)).phone_number);
  }
  return { organizationId, apiKey, profileId, numbers };
}

/** Adds a number to an organization, attached to `profileId` (or to no profile). Returns its id. */
export async function addNumber(
  store: Store,
  organizationId: string,
  profileId: string | null,
): Promise<{ id: string; phone_number: string }> {
  for (;;) {
    const id = randomUUID();
    const phone = randomSenderNumber();
    const now = new Date().toISOString();
    const added = await store.numbers.add({
      id,
      organization_id: organizationId,
      phone_number: phone,
      messaging_profile_id: profileId,
      tags: [],
      created_at: now,
      updated_at: now,
    });
    if (added) return { id, phone_number: phone };
  }
}

/**
 * Creates the database under `dataDir` and its sandbox without starting a server, so a child
 * gateway can be called without reading its banner.
 */
export async function seedSandbox(dataDir: string): Promise<SandboxInfo> {
  const store = await openTestStore(dataDir);
  try {
    const sandbox = await bootstrapSandbox(store);
    if (!sandbox) throw new Error(`${dataDir} already has an organization`);
    return sandbox;
  } finally {
    await store.close();
  }
}

export interface SpawnedGateway {
  url: string;
  /** The sandbox API key from the start-up banner, when one was expected (see spawnGateway). */
  apiKey: string | null;
  child: ChildProcess;
  /** Everything the child wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (waiting for more output); rejects if the child exits first. */
  waitForStdout(pattern: RegExp): Promise<RegExpExecArray>;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const QUIET_LEVELS = new Set(['fatal', 'error', 'warn', 'silent']);

/** Settings a developer's shell may hold that would silently change what a child gateway runs against. */
const INHERITED_SETTINGS = ['DATABASE_URL', 'PORT', 'HOST', 'DATA_DIR', 'ROLES', 'LOG_LEVEL', 'BOOTSTRAP'];

/**
 * Runs the CLI (`node --import tsx src/cli/main.ts <args>`, or the build: cliEntryArgs) from the repo
 * root with our environment, minus the gateway settings in INHERITED_SETTINGS, plus `env`.
 */
export function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of INHERITED_SETTINGS) delete base[key];
  return spawn(process.execPath, [...cliEntryArgs(), ...args], {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Runs a CLI command to completion. With a DATA_DIR in `env` and no DATABASE_URL, the command gets
 * the TEST_STORE database of that data dir.
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const storeEnv =
    env.DATA_DIR !== undefined && env.DATABASE_URL === undefined ? await testStoreEnv(env.DATA_DIR) : {};
  const child = spawnCli(args, { ...storeEnv, ...env });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/**
 * Runs `serve` in a child process on 127.0.0.1. With PORT unset it listens on an ephemeral port and
 * the URL comes from Fastify's `Server listening at …` log line; when the log level hides that line,
 * a free port is picked here instead. Resolves once `/health` answers, at info level once the
 * `gateway started` line and any sandbox banner have been read (so `apiKey` and
 * `apiKeyFromBanner(stdout())` are settled). A banner is expected when BOOTSTRAP is on and the store
 * has no organization yet (for SQLite: the file does not exist yet); with an explicit DATABASE_URL in
 * `env`, pass `expectBanner` to say so. Without one, the child runs on the TEST_STORE store of
 * `dataDir` (see testDatabaseUrl). Rejects if the child exits first.
 */
export async function spawnGateway(opts: {
  dataDir: string;
  env?: Record<string, string>;
  expectBanner?: boolean;
}): Promise<SpawnedGateway> {
  const ownDatabase = opts.env?.DATABASE_URL === undefined ? await testDatabaseUrl(opts.dataDir) : undefined;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    ROLES: 'api',
    LOG_LEVEL: 'info',
    BOOTSTRAP: 'true',
    ...RATE_LIMITS_OFF,
    ...(ownDatabase ? { DATABASE_URL: ownDatabase } : {}),
    ...opts.env,
    DATA_DIR: opts.dataDir,
  };
  let fixedUrl: string | null = null;
  if (env.PORT === undefined) {
    if (QUIET_LEVELS.has(env.LOG_LEVEL!)) {
      env.PORT = String(await freePort());
      fixedUrl = `http://127.0.0.1:${env.PORT}`;
    } else {
      env.PORT = '0';
    }
  } else if (env.PORT !== '0') {
    fixedUrl = `http://127.0.0.1:${env.PORT}`;
  }

  const verbose = !QUIET_LEVELS.has(env.LOG_LEVEL!);
  // The banner goes to stdout whatever the log level.
  const bootstrap = ['true', '1', 'yes'].includes(env.BOOTSTRAP!);
  const expectBanner =
    opts.expectBanner ??
    (bootstrap &&
      (ownDatabase
        ? !(await databaseHasOrganizations(ownDatabase))
        : env.DATABASE_URL === undefined && !fs.existsSync(path.join(opts.dataDir, 'gateway.sqlite'))));

  const child = spawnCli(['serve'], env);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  // After exit, once stdout and stderr are drained.
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    if (fixedUrl) settle(() => resolve(fixedUrl));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /"msg":"Server listening at (http:\/\/[^"]+)"/.exec(stdout);
      if (match) settle(() => resolve(match[1]!));
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    exited.then(({ code, signal }) =>
      settle(() =>
        reject(
          new Error(
            `gateway exited before listening (code ${code}, signal ${signal}):\n${stderr}\n${stdout}`,
          ),
        ),
      ),
    );
  });

  // Listening is logged after bind; a fixed port needs polling until the child has bound it.
  let childGone = false;
  exited.then(() => {
    childGone = true;
  });
  for (;;) {
    if (childGone) throw new Error(`gateway exited during start-up:\n${stderr}\n${stdout}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const spawned: SpawnedGateway = {
    url,
    apiKey: null,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStdout: (pattern) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (match) {
            child.stdout?.off('data', onData);
            resolve(match);
          }
          return match;
        };
        const onData = () => {
          // Runs after the accumulating listener registered earlier, so `stdout` includes this chunk.
          check();
        };
        if (check()) return;
        child.stdout?.on('data', onData);
        closed.then(() => {
          child.stdout?.off('data', onData);
          if (!check()) reject(new Error(`gateway exited without printing ${pattern}:\n${stdout}`));
        });
      }),
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
    exited,
  };
  if (verbose) await spawned.waitForStdout(/"msg":"gateway started"/);
  if (expectBanner) spawned.apiKey = (await spawned.waitForStdout(BANNER_API_KEY))[1]!;
  return spawned;
}

/** The sandbox API key in the start-up banner a child gateway prints (plain lines, any log level) on an empty database. */
export const BANNER_API_KEY = /^ {2}API key: +(KEY[A-Za-z0-9_-]{20,})$/m;

/** The sandbox API key from a child gateway's output, or null when it printed no banner. */
export function apiKeyFromBanner(stdout: string): string | null {
  return BANNER_API_KEY.exec(stdout)?.[1] ?? null;
}
