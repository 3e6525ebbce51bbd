/**
 * Accept throughput: how many 3-recipient group MMS per second the gateway (API role, SQLite)
 * takes in, next to a bare Fastify JSON endpoint on the same machine as the ceiling. Both servers run
 * in their own child process; autocannon runs here with the same settings against each. For scale,
 * the same run also reads one accepted message back (`GET /v2/messages/{id}`): the same HTTP, auth
 * and rendering, with reads instead of writes.
 *
 * Durability of what is measured: the gateway answers 200 only after the message, its recipients
 * and its send job are committed. SQLite runs in WAL mode with synchronous=NORMAL, so a commit
 * survives a crash of the process (not necessarily a power cut or OS crash).
 *
 * Also the child entry of the bare server: `node --import tsx bench/accept.ts --echo-server`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { openStore } from '../src/store/open-store.ts';
import { makeTempDir, seedSandbox, spawnGateway } from '../test/support/gateway.ts';
import { envNumber } from './env.ts';
import { procCpuSeconds } from './proc-cpu.ts';
import { machineBasics, writeResults } from './results-file.ts';
import type { Bench } from './run.ts';

// ACCEPT_DURATION_S shortens each measured run (the machine is shared; CPU per request needs only a few seconds).
const SETTINGS = { connections: 50, duration: envNumber('ACCEPT_DURATION_S', 10), pipelining: 1 } as const;
const WARMUP = { connections: 10, duration: 2, pipelining: 1 } as const;

interface Figures {
  requests_per_second: number;
  /** CPU time per completed request: the server process (all its threads) and this process (autocannon). */
  cpu_us_per_request: { server: number; client: number };
  total_2xx: number;
  non_2xx: number;
  errors: number;
  timeouts: number;
  latency_ms: { p50: number; p99: number; average: number; max: number };
}

interface Measured {
  result: autocannon.Result;
  serverCpuUs: number;
  clientCpuUs: number;
}

/** One autocannon run, with the CPU the server process and this process used during it. */
async function measured(serverPid: number, run: () => Promise<autocannon.Result>): Promise<Measured> {
  const server0 = procCpuSeconds(serverPid);
  const client0 = process.cpuUsage();
  const result = await run();
  const client = process.cpuUsage(client0);
  return {
    result,
    serverCpuUs: (procCpuSeconds(serverPid) - server0) * 1e6,
    clientCpuUs: client.user + client.system,
  };
}

function figures({ result: r, serverCpuUs, clientCpuUs }: Measured): Figures {
  const perRequest = (us: number) => Math.round(us / Math.max(1, r.requests.total));
  return {
    requests_per_second: Math.round(r.requests.average),
    cpu_us_per_request: { server: perRequest(serverCpuUs), client: perRequest(clientCpuUs) },
    total_2xx: r['2xx'],
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latency_ms: { p50: r.latency.p50, p99: r.latency.p99, average: r.latency.average, max: r.latency.max },
  };
}

async function load(
  url: string,
  opts: { connections: number; duration: number; pipelining: number },
  headers: Record<string, string>,
  body?: string,
): Promise<autocannon.Result> {
  return autocannon({ url, method: body === undefined ? 'GET' : 'POST', headers, body, ...opts });
}

/** The bare Fastify endpoint: parse the JSON body, answer a small JSON object. */
async function runEchoServer(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.post('/echo', async (request) => ({
    data: { ok: true, keys: Object.keys((request.body ?? {}) as object).length },
  }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.on('SIGTERM', () => {
    app.close().then(() => process.exit(0));
  });
}

async function startEchoServer(): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--echo-server'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    exited.then(() => reject(new Error(`echo server exited before listening: ${out}`)));
  });
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

async function run(): Promise<void> {
  const loadBefore = os.loadavg()[0]!;
  const dataDir = makeTempDir('mms-gateway-bench-');
  try {
    const sandbox = await seedSandbox(dataDir);
    const body = JSON.stringify({
      from: sandbox.numbers[0],
      to: ['+13125550100', '+13125550101', '+13125550102'],
      text: 'Hello from the accept bench',
    });
    const json = { 'content-type': 'application/json' };

    // (a) bare Fastify
    const echo = await startEchoServer();
    let fastifyResult: Measured;
    try {
      await load(`${echo.url}/echo`, WARMUP, json, body);
      fastifyResult = await measured(echo.child.pid!, () => load(`${echo.url}/echo`, SETTINGS, json, body));
    } finally {
      await echo.stop();
    }

    // (b) the gateway
    const gateway = await spawnGateway({
      dataDir,
      env: { ROLES: 'api', LOG_LEVEL: 'warn', BOOTSTRAP: 'false' },
    });
    const auth = { ...json, authorization: `Bearer ${sandbox.apiKey}` };
    let warmup: autocannon.Result;
    let gatewayResult: Measured;
    let readResult: Measured;
    try {
      warmup = await load(`${gateway.url}/v2/messages/group_mms`, WARMUP, auth, body);
      gatewayResult = await measured(gateway.child.pid!, () =>
        load(`${gateway.url}/v2/messages/group_mms`, SETTINGS, auth, body),
      );
      // For scale: reading one of those messages back costs the same HTTP, auth and rendering of the
      // same record, with two indexed reads instead of the writes.
      const sent = await fetch(`${gateway.url}/v2/messages/group_mms`, {
        method: 'POST',
        headers: auth,
        body,
      });
      const { data } = (await sent.json()) as { data: { id: string } };
      readResult = await measured(gateway.child.pid!, () =>
        load(`${gateway.url}/v2/messages/${data.id}`, SETTINGS, { authorization: auth.authorization }),
      );
    } finally {
      gateway.kill('SIGTERM');
      await gateway.exited;
    }

    // Every 2xx must be a stored message with its send job (in-flight requests at the end of the
    // run may add a few the client never counted).
    const store = await openStore({ dataDir });
    const storedJobs = await store.jobs.count('message.send');
    await store.close();

    const a = figures(fastifyResult);
    const b = figures(gatewayResult);
    const c = figures(readResult);
    const result = {
      bench: 'accept',
      date: new Date().toISOString(),
      machine: {
        ...machineBasics(),
        // The machine may be shared: a 1-minute load average well above `cpus` makes every figure low.
        loadavg_1m_before: round(loadBefore),
        loadavg_1m_after: round(os.loadavg()[0]!),
      },
      settings: { ...SETTINGS, warmup: WARMUP },
      fastify_echo: a,
      gateway_group_mms: { ...b, recipients_per_message: 3, storage: 'sqlite wal synchronous=NORMAL' },
      ratio_gateway_to_fastify: round(b.requests_per_second / a.requests_per_second, 3),
      gateway_get_message: c,
      ratio_get_message_to_fastify: round(c.requests_per_second / a.requests_per_second, 3),
      stored_send_jobs: storedJobs,
      acknowledged_2xx: warmup['2xx'] + gatewayResult.result['2xx'] + 1,
      durability:
        'A 200 means the message, its recipients and its send job are committed. SQLite WAL with synchronous=NORMAL: commits survive a process crash, not necessarily a power loss.',
    };
    const written = writeResults('accept', result);

    const row = (name: string, f: Figures) =>
      `${name.padEnd(26)} ${String(f.requests_per_second).padStart(8)} req/s   CPU/req server ${String(f.cpu_us_per_request.server).padStart(4)} µs client ${String(f.cpu_us_per_request.client).padStart(3)} µs   p50 ${String(f.latency_ms.p50).padStart(4)} ms   p99 ${String(f.latency_ms.p99).padStart(4)} ms   non-2xx ${f.non_2xx}   errors ${f.errors}`;
    process.stdout.write(
      [
        `autocannon: ${SETTINGS.connections} connections, ${SETTINGS.duration} s, pipelining ${SETTINGS.pipelining} (after a ${WARMUP.duration} s warm-up); ${result.machine.cpus} CPUs shared by client and server; 1-min load average ${result.machine.loadavg_1m_before} → ${result.machine.loadavg_1m_after}`,
        row('fastify POST /echo', a),
        row('gateway POST group_mms', b),
        `ratio gateway / fastify: ${result.ratio_gateway_to_fastify}`,
        row('gateway GET message', c),
        `ratio GET message / fastify: ${result.ratio_get_message_to_fastify}`,
        `stored send jobs ${storedJobs} ≥ acknowledged 2xx ${result.acknowledged_2xx}`,
        `durability: ${result.durability}`,
        `written to ${written}`,
        '',
      ].join('\n'),
    );

    for (const [name, f] of [
      ['accept', b],
      ['read-back', c],
    ] as const) {
      if (f.non_2xx > 0 || f.errors > 0) {
        throw new Error(
          `${name}: the gateway answered ${f.non_2xx} non-2xx and had ${f.errors} connection errors`,
        );
      }
    }
    if (storedJobs < result.acknowledged_2xx) {
      throw new Error(
        `only ${storedJobs} send jobs stored for ${result.acknowledged_2xx} acknowledged messages`,
      );
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export const bench: Bench = {
  name: 'accept',
  description: 'group MMS accepted per second by the API (SQLite) next to a bare Fastify endpoint',
  run,
};

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--echo-server'
) {
  await runEchoServer();
}
