/**
 * End to end: the gateway (API and workers, SQLite, the simulator answering at once) as a child
 * process, a webhook receiver in this process on 127.0.0.1, and 3-recipient group MMS going through
 * accept → carrier submit → delivery report → message.finalized webhook.
 *
 * - sweep: completion throughput for a few WORKER_CONCURRENCY values (a shorter run each), to pick one;
 * - latency (issue target p50 ≤ 20 ms, p99 ≤ 100 ms): open-loop 500 messages/s for 10 s; for each
 *   recipient, time from the 200 response to the receiver getting its message.finalized; the same
 *   again at half the measured throughput, where the queue is not growing;
 * - throughput (target ≥ 1,000 messages/s): 5,000 messages sent as fast as accepted (64 in flight);
 *   messages fully processed (all three message.finalized received) per second;
 * - profile (E2E_PROFILE=1, default on): one more throughput run with the gateway under --cpu-prof and
 *   with every SQLite statement counted (a preload that wraps better-sqlite3), summarised.
 *
 * Client, receiver and gateway share the machine's cores; the CPU each used is reported.
 * Runs from `npm run bench -- e2e` or on its own: `tsx bench/e2e.ts`. Writes bench/results/e2e.json.
 * Settings: E2E_CONCURRENCIES=8,32,128 E2E_RATE=500 E2E_SECONDS=10 E2E_N=5000 E2E_PROFILE=0|1
 * E2E_PROFILE_KEEP=<file> (keeps the gateway's .cpuprofile there).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createApiClient, groupMmsBody, percentile, waitUntil } from '../test/support/crash-harness.ts';
import { freePort } from '../test/support/free-port.ts';
import {
  cliEntryArgs,
  makeTempDir,
  RATE_LIMITS_OFF,
  REPO_ROOT,
  seedSandbox,
} from '../test/support/gateway.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../test/support/webhook-receiver.ts';
import { envNumber } from './env.ts';
import { procCpuSeconds } from './proc-cpu.ts';
import { machineBasics, writeResults } from './results-file.ts';
import type { Bench } from './run.ts';

const RECIPIENTS = 3;

const SETTINGS = {
  concurrencies: (process.env.E2E_CONCURRENCIES ?? '8,32,128').split(',').map(Number),
  sweepMessages: envNumber('E2E_SWEEP_N', 2000),
  rate: envNumber('E2E_RATE', 500),
  seconds: envNumber('E2E_SECONDS', 10),
  throughputMessages: envNumber('E2E_N', 5000),
  sendConcurrency: 64,
  warmupMessages: 300,
  profile: process.env.E2E_PROFILE !== '0',
  split: process.env.E2E_SPLIT === '1',
  splitPollMs: envNumber('E2E_SPLIT_POLL_MS', 5),
};

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------------
// The gateway child

interface BenchGateway {
  url: string;
  child: ChildProcess;
  /** CPU seconds the child used so far (user + system), from /proc. */
  cpuSeconds(): number;
  stop(): Promise<void>;
  output(): string;
}

/** Starts the gateway; a port taken between picking and binding it (other processes) means a retry. */
async function startBenchGateway(opts: Parameters<typeof startBenchGatewayOnce>[0]): Promise<BenchGateway> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBenchGatewayOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err;
    }
  }
}

async function startBenchGatewayOnce(opts: {
  dataDir: string;
  workerConcurrency: number;
  nodeArgs?: string[];
  env?: Record<string, string>;
}): Promise<BenchGateway> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...cliEntryArgs(), 'serve'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: opts.dataDir,
      ROLES: 'api,worker',
      LOG_LEVEL: 'warn',
      BOOTSTRAP: 'false',
      // The API's per-key request limit (200/s by default) would cap the pipeline under test.
      ...RATE_LIMITS_OFF,
      OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8',
      SIMULATOR_REPORT_DELAY_MS: '0',
      RETRY_SCALE: '0.01',
      WORKER_CONCURRENCY: String(opts.workerConcurrency),
      ...opts.env,
    },
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  const url = `http://127.0.0.1:${port}`;
  // A worker-only process serves no HTTP: the warm-up's messages finishing shows it is up. One that
  // refuses its settings exits within its first second: say so, rather than wait for the warm-up.
  if (opts.env?.ROLES === 'worker') {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    if (gone) throw new Error(`worker process exited during start-up:\n${output}`);
  } else
    await waitUntil(
      async () => {
        if (gone) throw new Error(`gateway exited during start-up:\n${output}`);
        try {
          return (await fetch(`${url}/health`)).ok;
        } catch {
          return false;
        }
      },
      { timeoutMs: 60_000, intervalMs: 50, describe: () => `gateway not healthy:\n${output}` },
    );
  return {
    url,
    child,
    cpuSeconds: () => procCpuSeconds(child.pid),
    output: () => output,
    async stop() {
      if (!gone) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * E2E_SPLIT=1: the API (ROLES=api) and the workers (ROLES=worker) in two processes on one SQLite
 * file, measured as one gateway (their CPU added). SQLite has no NOTIFY, so the workers find the
 * API's jobs by polling, every E2E_SPLIT_POLL_MS.
 */
async function startSplitGateway(opts: Parameters<typeof startBenchGatewayOnce>[0]): Promise<BenchGateway> {
  const api = await startBenchGateway({ ...opts, env: { ...opts.env, ROLES: 'api' } });
  const workers = await startBenchGateway({
    ...opts,
    env: { ...opts.env, ROLES: 'worker', WORKER_POLL_MS: String(SETTINGS.splitPollMs) },
  }).catch(async (err) => {
    await api.stop();
    throw err;
  });
  return {
    url: api.url,
    child: workers.child,
    cpuSeconds: () => api.cpuSeconds() + workers.cpuSeconds(),
    output: () => api.output() + workers.output(),
    async stop() {
      await Promise.all([api.stop(), workers.stop()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Tracking messages from the 200 to their last message.finalized

interface Tracked {
  /** performance.now() at the 200 response. */
  acceptedAt: number;
  /** Arrival times of message.finalized per recipient. */
  finalizedAt: number[];
}

class Tracker {
  readonly messages = new Map<string, Tracked>();
  /** Finalized events whose 200 had not been seen yet (a race the client can lose). */
  private readonly early = new Map<string, number[]>();
  completed = 0;
  lastCompletionAt = 0;
  completionTimes: number[] = [];

  accepted(id: string, at: number): void {
    const t: Tracked = { acceptedAt: at, finalizedAt: this.early.get(id) ?? [] };
    this.early.delete(id);
    this.messages.set(id, t);
    this.check(t, at);
  }

  finalized(groupId: string, at: number): void {
    const t = this.messages.get(groupId);
    if (!t) {
      const list = this.early.get(groupId) ?? [];
      list.push(at);
      this.early.set(groupId, list);
      return;
    }
    t.finalizedAt.push(at);
    this.check(t, at);
  }

  private check(t: Tracked, at: number): void {
    if (t.finalizedAt.length === RECIPIENTS) {
      this.completed++;
      this.lastCompletionAt = at;
      this.completionTimes.push(at);
    }
  }

  reset(): void {
    this.messages.clear();
    this.early.clear();
    this.completed = 0;
    this.lastCompletionAt = 0;
    this.completionTimes = [];
  }

  /** Per recipient, ms from the 200 to its message.finalized. */
  latencies(): number[] {
    const out: number[] = [];
    for (const t of this.messages.values()) for (const f of t.finalizedAt) out.push(f - t.acceptedAt);
    return out.sort((a, b) => a - b);
  }
}

function distribution(sortedMs: number[]) {
  return {
    count: sortedMs.length,
    p50_ms: round(percentile(sortedMs, 50)),
    p90_ms: round(percentile(sortedMs, 90)),
    p99_ms: round(percentile(sortedMs, 99)),
    max_ms: round(sortedMs.at(-1) ?? Number.NaN),
  };
}

interface Rig {
  gateway: BenchGateway;
  receiver: WebhookReceiver;
  tracker: Tracker;
  apiKey: string;
  numbers: string[];
  client: ReturnType<typeof createApiClient>;
  nextIndex: number;
  close(): Promise<void>;
}

async function startRig(opts: {
  workerConcurrency: number;
  nodeArgs?: string[];
  env?: Record<string, string>;
}): Promise<Rig> {
  const dataDir = makeTempDir('mms-gateway-e2e-');
  const { apiKey, numbers } = await seedSandbox(dataDir);
  const tracker = new Tracker();
  const receiver = await startWebhookReceiver({
    onFinalized: (e) => tracker.finalized(e.groupMessageId, e.firstAt),
  });
  const gateway = SETTINGS.split
    ? await startSplitGateway({ dataDir, ...opts })
    : await startBenchGateway({ dataDir, ...opts });
  const client = createApiClient({ connections: 256 });
  return {
    gateway,
    receiver,
    tracker,
    apiKey,
    numbers,
    client,
    nextIndex: 0,
    async close() {
      await gateway.stop();
      await client.close();
      await receiver.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function sendOne(rig: Rig, failures: string[]): Promise<void> {
  const i = rig.nextIndex++;
  const r = await rig.client.sendGroupMms(
    rig.gateway.url,
    rig.apiKey,
    groupMmsBody(i, rig.receiver.url, rig.numbers),
  );
  if (r.ok) rig.tracker.accepted(r.id, performance.now());
  else if (failures.length < 20) failures.push(`${r.status} ${r.error}`);
  else failures.push('…');
}

async function drain(rig: Rig, expected: number, timeoutMs: number): Promise<boolean> {
  try {
    await waitUntil(() => rig.tracker.completed >= expected, {
      timeoutMs,
      intervalMs: 20,
      describe: () => `${rig.tracker.completed}/${expected} messages finalized`,
    });
    return true;
  } catch {
    return false;
  }
}

/** Sends `n` messages with `inFlight` requests outstanding; waits until all are finalized. */
async function closedLoop(rig: Rig, n: number, inFlight: number, timeoutMs: number) {
  rig.tracker.reset();
  const failures: string[] = [];
  const cpu0 = { bench: process.cpuUsage(), gateway: rig.gateway.cpuSeconds() };
  const webhooks0 = { posts: rig.receiver.posts(), connections: rig.receiver.connections() };
  const start = performance.now();
  let sent = 0;
  let lastAcceptAt = start;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (sent < n) {
        sent++;
        await sendOne(rig, failures);
        lastAcceptAt = performance.now();
      }
    }),
  );
  const accepted = rig.tracker.messages.size;
  const drained = await drain(rig, accepted, timeoutMs);
  const end = drained ? rig.tracker.lastCompletionAt : performance.now();
  const seconds = (end - start) / 1000;
  // The sustained part: completions between the 20th and 80th percentile of the run.
  const times = [...rig.tracker.completionTimes].sort((a, b) => a - b);
  const lo = times[Math.floor(times.length * 0.2)] ?? start;
  const hi = times[Math.floor(times.length * 0.8)] ?? end;
  const middle = Math.floor(times.length * 0.8) - Math.floor(times.length * 0.2);
  return {
    messages_sent: n,
    accepted,
    failures: failures.length,
    failure_samples: failures.slice(0, 5),
    all_finalized: drained,
    finalized_messages: rig.tracker.completed,
    accept_rate_per_s: round(accepted / ((lastAcceptAt - start) / 1000)),
    completion_rate_per_s: round(rig.tracker.completed / seconds),
    sustained_completion_rate_per_s: round(middle / ((hi - lo) / 1000)),
    wall_s: round(seconds, 2),
    /** Gateway CPU per message: its single thread saturates at about 1000 / this messages/s. */
    gateway_cpu_ms_per_message: round(((rig.gateway.cpuSeconds() - cpu0.gateway) * 1000) / accepted, 2),
    webhook_posts: rig.receiver.posts() - webhooks0.posts,
    webhook_connections_opened: rig.receiver.connections() - webhooks0.connections,
    cpu_s: {
      gateway: round(rig.gateway.cpuSeconds() - cpu0.gateway, 2),
      bench_process: round(cpuSeconds(process.cpuUsage(cpu0.bench)), 2),
    },
  };
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** Open loop: message k is sent at start + k/rate whatever happened to the earlier ones. */
async function openLoop(rig: Rig, rate: number, seconds: number, timeoutMs: number) {
  rig.tracker.reset();
  const failures: string[] = [];
  const total = Math.round(rate * seconds);
  const pending: Array<Promise<void>> = [];
  const apiTimes: number[] = [];
  const cpu0 = { bench: process.cpuUsage(), gateway: rig.gateway.cpuSeconds() };
  const start = performance.now();
  let sent = 0;
  let maxLagMs = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
    if (due > sent) maxLagMs = Math.max(maxLagMs, now - (start + ((due - 1) / rate) * 1000));
    for (; sent < due; sent++) {
      const t0 = performance.now();
      pending.push(sendOne(rig, failures).then(() => void apiTimes.push(performance.now() - t0)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const sendingEnded = performance.now();
  await Promise.all(pending);
  const accepted = rig.tracker.messages.size;
  const drained = await drain(rig, accepted, timeoutMs);
  const end = drained ? rig.tracker.lastCompletionAt : performance.now();
  apiTimes.sort((a, b) => a - b);
  return {
    offered_rate_per_s: rate,
    seconds,
    messages_sent: total,
    achieved_send_rate_per_s: round(total / ((sendingEnded - start) / 1000)),
    pacing_max_lag_ms: round(maxLagMs),
    accepted,
    failures: failures.length,
    failure_samples: failures.slice(0, 5),
    all_finalized: drained,
    finalized_messages: rig.tracker.completed,
    /** How long after the last send the last message.finalized came: > 0 s means a queue built up. */
    drain_after_sending_s: round((end - sendingEnded) / 1000, 2),
    api_response_ms: distribution(apiTimes),
    accepted_to_finalized_ms: distribution(rig.tracker.latencies()),
    cpu_s: {
      gateway: round(rig.gateway.cpuSeconds() - cpu0.gateway, 2),
      bench_process: round(cpuSeconds(process.cpuUsage(cpu0.bench)), 2),
    },
  };
}

async function warmUp(rig: Rig): Promise<void> {
  await closedLoop(rig, SETTINGS.warmupMessages, 16, 120_000);
}

// ---------------------------------------------------------------------------------------------------
// Profiling: --cpu-prof on the gateway, and a count of SQLite statements

/**
 * A preload for the gateway child: counts every better-sqlite3 statement run (and BEGIN/COMMIT via
 * exec) with the time spent in it, written as JSON at exit.
 */
function queryCounterSource(outFile: string): string {
  const requireFrom = path.join(REPO_ROOT, 'package.json');
  return `
import { createRequire } from 'node:module';
import fs from 'node:fs';
const require = createRequire(${JSON.stringify(requireFrom)});
const Database = require('better-sqlite3');
const stats = new Map();
const timed = (sql, fn) => {
  const t0 = process.hrtime.bigint();
  let result;
  try { return (result = fn()); } finally {
    const s = stats.get(sql) ?? { count: 0, ns: 0n, rows: 0 };
    s.count++;
    s.ns += process.hrtime.bigint() - t0;
    if (Array.isArray(result)) s.rows += result.length;
    else if (result && typeof result.changes === 'number') s.rows += result.changes;
    stats.set(sql, s);
  }
};
const probe = new Database(':memory:');
const Statement = Object.getPrototypeOf(probe.prepare('SELECT 1'));
probe.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = Statement[method];
  Statement[method] = function (...args) { return timed(this.source, () => original.apply(this, args)); };
}
const exec = Database.prototype.exec;
Database.prototype.exec = function (sql) { return timed(sql, () => exec.call(this, sql)); };
process.on('exit', () => {
  const out = {};
  for (const [sql, s] of stats) out[sql] = { count: s.count, ms: Number(s.ns / 1000n) / 1000, rows: s.rows };
  fs.writeFileSync(${JSON.stringify(outFile)}, JSON.stringify(out));
});
`;
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time by function and by file, and inclusive time of the gateway's own functions. */
function summariseCpuProfile(profile: CpuProfile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const shortUrl = (u: string) =>
    u
      .replace(pathToFileURL(REPO_ROOT).href, '')
      .replace(/^\//, '')
      .replace(/^node_modules\//, 'npm:');
  const preloadFrame = (n: CpuProfileNode) => n.callFrame.url.endsWith('count-queries.mjs');
  const label = (n: CpuProfileNode) =>
    preloadFrame(n)
      ? 'SQLite statement execution (native better-sqlite3, under the statement counter)'
      : plainLabel(n);
  const plainLabel = (n: CpuProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const fileOf = (n: CpuProfileNode) => {
    if (preloadFrame(n)) return 'npm:better-sqlite3 (native statements)';
    const u = shortUrl(n.callFrame.url);
    if (u.startsWith('npm:')) return u.split('/')[0]!;
    return u || n.callFrame.functionName;
  };
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(id)!;
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    files.set(fileOf(node), (files.get(fileOf(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (!shortUrl(n.callFrame.url).startsWith('src/')) continue;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
    }
  });
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: round((100 * us) / total) }));
  return {
    sampled_ms: Math.round(total / 1000),
    self_by_function: rank(self),
    self_by_file: rank(files),
    inclusive_gateway_functions: rank(inclusive),
  };
}

async function profileRun(workerConcurrency: number, n: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-e2e-prof-'));
  const countsFile = path.join(dir, 'queries.json');
  const preload = path.join(dir, 'count-queries.mjs');
  fs.writeFileSync(preload, queryCounterSource(countsFile));
  const rig = await startRig({
    workerConcurrency,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', pathToFileURL(preload).href],
  });
  let run: Awaited<ReturnType<typeof closedLoop>>;
  try {
    await warmUp(rig);
    run = await closedLoop(rig, n, SETTINGS.sendConcurrency, 300_000);
  } finally {
    await rig.close();
  }
  const main = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  const cpu = main ? summariseCpuProfile(JSON.parse(fs.readFileSync(main, 'utf8')) as CpuProfile) : null;
  const counts = fs.existsSync(countsFile)
    ? (JSON.parse(fs.readFileSync(countsFile, 'utf8')) as Record<
        string,
        { count: number; ms: number; rows: number }
      >)
    : {};
  const messages = n + SETTINGS.warmupMessages;
  const statements = Object.entries(counts)
    .map(([sql, s]) => ({ sql: sql.replace(/\s+/g, ' ').slice(0, 160), ...s }))
    .sort((a, b) => b.ms - a.ms);
  const sum = (list: typeof statements, key: 'count' | 'ms') => list.reduce((acc, q) => acc + q[key], 0);
  const commits = statements.filter((q) => q.sql === 'COMMIT');
  const writes = statements.filter((q) => /^(INSERT|UPDATE|DELETE)/i.test(q.sql));
  if (main && process.env.E2E_PROFILE_KEEP) fs.copyFileSync(main, process.env.E2E_PROFILE_KEEP);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    note: 'one more closed-loop run with the gateway under --cpu-prof and a statement counter (slower than the measured runs); counts cover the warm-up too',
    worker_concurrency: workerConcurrency,
    messages,
    run,
    sqlite: {
      note: 'statements run by the gateway, with time inside better-sqlite3 (native), per message accepted',
      statements_per_message: round(sum(statements, 'count') / messages, 1),
      ms_in_sqlite_per_message: round(sum(statements, 'ms') / messages, 3),
      transactions_per_message: round(sum(commits, 'count') / messages, 1),
      write_statements_per_message: round(sum(writes, 'count') / messages, 1),
      by_time: statements.slice(0, 25).map((q) => ({
        sql: q.sql,
        per_message: round(q.count / messages, 2),
        ms_total: Math.round(q.ms),
        us_each: round((q.ms * 1000) / q.count, 1),
        rows_each: round(q.rows / q.count, 1),
      })),
    },
    cpu,
  };
}

// ---------------------------------------------------------------------------------------------------

export async function runE2eBench(): Promise<Record<string, unknown>> {
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const startedAt = Date.now();
  const loadBefore = os.loadavg();

  // 1. Sweep WORKER_CONCURRENCY on completion throughput.
  const sweep: Array<{ worker_concurrency: number } & Awaited<ReturnType<typeof closedLoop>>> = [];
  for (const c of SETTINGS.concurrencies) {
    const rig = await startRig({ workerConcurrency: c });
    try {
      await warmUp(rig);
      const r = await closedLoop(rig, SETTINGS.sweepMessages, SETTINGS.sendConcurrency, 300_000);
      sweep.push({ worker_concurrency: c, ...r });
      log(
        `sweep WORKER_CONCURRENCY=${c}: ${r.completion_rate_per_s} msg/s fully processed (accept ${r.accept_rate_per_s}/s)`,
      );
    } finally {
      await rig.close();
    }
  }
  // The smallest concurrency within 5% of the best rate: the sweep's differences are mostly noise, and
  // more workers in one event loop only lengthen the queues (the API's answers and the tail latency).
  const bestRate = Math.max(...sweep.map((s) => s.completion_rate_per_s));
  const best = sweep.find((s) => s.completion_rate_per_s >= 0.95 * bestRate)!;
  const c = best.worker_concurrency;

  // 2. Latency at the target rate, and at half the measured throughput; 3. throughput, all on one gateway.
  const rig = await startRig({ workerConcurrency: c });
  let latencyTarget: Awaited<ReturnType<typeof openLoop>>;
  let latencyHalf: Awaited<ReturnType<typeof openLoop>>;
  let throughput: Awaited<ReturnType<typeof closedLoop>>;
  try {
    await warmUp(rig);
    latencyTarget = await openLoop(rig, SETTINGS.rate, SETTINGS.seconds, 300_000);
    log(
      `latency at ${SETTINGS.rate}/s: p50 ${latencyTarget.accepted_to_finalized_ms.p50_ms} ms, p99 ${latencyTarget.accepted_to_finalized_ms.p99_ms} ms (drain ${latencyTarget.drain_after_sending_s} s after sending)`,
    );
    const halfRate = Math.max(10, Math.floor(best.completion_rate_per_s / 2));
    latencyHalf = await openLoop(rig, halfRate, SETTINGS.seconds, 300_000);
    log(
      `latency at ${halfRate}/s: p50 ${latencyHalf.accepted_to_finalized_ms.p50_ms} ms, p99 ${latencyHalf.accepted_to_finalized_ms.p99_ms} ms`,
    );
    throughput = await closedLoop(rig, SETTINGS.throughputMessages, SETTINGS.sendConcurrency, 300_000);
    log(
      `throughput: ${throughput.completion_rate_per_s} msg/s fully processed (sustained ${throughput.sustained_completion_rate_per_s}/s), accept ${throughput.accept_rate_per_s}/s`,
    );
  } finally {
    await rig.close();
  }

  // 4. Where the time goes.
  const profile = SETTINGS.profile ? await profileRun(c, SETTINGS.sweepMessages) : null;
  if (profile) log(`profile: ${profile.sqlite.statements_per_message} SQLite statements per message`);

  const targets = {
    p50_ms: 20,
    p99_ms: 100,
    messages_per_s: 1000,
  };
  const result = {
    bench: 'e2e',
    date: new Date().toISOString(),
    machine: {
      ...machineBasics(),
      loadavg_before: loadBefore.map((l) => round(l, 2)),
      loadavg_after: os.loadavg().map((l) => round(l, 2)),
    },
    setup: {
      gateway: 'child process, ROLES=api,worker, SQLite (WAL, synchronous=NORMAL), LOG_LEVEL=warn',
      simulator_report_delay_ms: 0,
      recipients_per_message: RECIPIENTS,
      receiver: 'http server in the bench process on 127.0.0.1, answers 200 at once',
      client: 'undici keep-alive, in the bench process',
      ...SETTINGS,
    },
    targets,
    sweep,
    chosen_worker_concurrency: c,
    latency_at_target_rate: latencyTarget,
    latency_at_half_throughput: latencyHalf,
    throughput,
    verdict: {
      p50_met: latencyTarget.accepted_to_finalized_ms.p50_ms <= targets.p50_ms,
      p99_met: latencyTarget.accepted_to_finalized_ms.p99_ms <= targets.p99_ms,
      /** The measure: completions between the 20th and 80th percentile of the run. */
      throughput_met: throughput.sustained_completion_rate_per_s >= targets.messages_per_s,
      /** Over the whole run, from the first send to the last message.finalized. */
      throughput_over_run_met: throughput.completion_rate_per_s >= targets.messages_per_s,
    },
    profile,
    bench_wall_s: Math.round((Date.now() - startedAt) / 1000),
  };
  const written = writeResults('e2e', result);
  log(
    `targets: p50 ≤ ${targets.p50_ms} ms ${result.verdict.p50_met ? 'met' : 'NOT met'}, p99 ≤ ${targets.p99_ms} ms ${result.verdict.p99_met ? 'met' : 'NOT met'}, ≥ ${targets.messages_per_s} msg/s sustained ${result.verdict.throughput_met ? 'met' : 'NOT met'} (over the whole run ${result.verdict.throughput_over_run_met ? 'met' : 'NOT met'})`,
  );
  log(`written to ${written}`);
  return result;
}

export const bench: Bench = {
  name: 'e2e',
  description: 'group MMS end to end: 200 → carrier → report → message.finalized (latency, throughput)',
  run: async () => {
    await runE2eBench();
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runE2eBench();
}
