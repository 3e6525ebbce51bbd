/**
 * The storage part of accepting a group MMS, without HTTP: `createGroupMms` (sender lookup, then
 * the message, 3 recipients and the send job in one transaction) called directly on the gateway's
 * SQLite store, 20 at a time as 50 HTTP connections would, on a fresh database file. Also reading a
 * message back (`getForOrganization`: 2 statements). Prints microseconds of this process's CPU per
 * operation, how much of it was spent inside SQLite statement calls (the native floor), and the rate
 * this cost alone would allow on one core.
 *
 * It tells how much of the accept bench's per-request budget the required writes already take: at a
 * ratio of 0.5 to a bare endpoint doing R req/s, the whole request must cost at most 2/R seconds.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { createGroupMms, type SendDeps } from '../src/messages/create-group-mms.ts';
import { analyzeText } from '../src/messages/encoding.ts';
import { groupMmsRequestSchema } from '../src/messages/group-mms-schema.ts';
import { createNumberLookup } from '../src/numbers/lookup.ts';
import { DEMO_PREFIX_TABLE_URL, loadPrefixTable } from '../src/numbers/prefix-table.ts';
import { openStore } from '../src/store/open-store.ts';
import { bootstrapSandbox } from '../src/tenants/bootstrap.ts';
import { makeTempDir } from '../test/support/gateway.ts';
import { envNumber } from './env.ts';
import { machineBasics, writeResults } from './results-file.ts';
import type { Bench } from './run.ts';

const MESSAGES = envNumber('STORE_FLOOR_N', 40_000);
const IN_FLIGHT = 20;

/** Time spent inside better-sqlite3's statement calls (native SQLite work), summed over this process. */
let sqliteNs = 0n;
function timeSqliteStatements(): void {
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all']) {
    const original = statement[method] as (...args: unknown[]) => unknown;
    statement[method] = function (this: unknown, ...args: unknown[]) {
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        sqliteNs += process.hrtime.bigint() - started;
      }
    };
  }
}

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function measure(n: number, inFlight: number, op: () => Promise<unknown>) {
  const cpu0 = cpuMicros();
  const sqlite0 = sqliteNs;
  const t0 = performance.now();
  for (let done = 0; done < n; done += inFlight) {
    await Promise.all(Array.from({ length: Math.min(inFlight, n - done) }, op));
  }
  const wallMs = performance.now() - t0;
  const cpuUsPerOp = (cpuMicros() - cpu0) / n;
  return {
    operations: n,
    cpu_us_per_operation: Math.round(cpuUsPerOp * 10) / 10,
    in_sqlite_us_per_operation: Math.round(Number(sqliteNs - sqlite0) / 100 / n) / 10,
    wall_us_per_operation: Math.round(((wallMs * 1000) / n) * 10) / 10,
    rate_on_one_core_per_s: Math.round(1e6 / cpuUsPerOp),
  };
}

async function run(): Promise<void> {
  timeSqliteStatements();
  const dataDir = makeTempDir('mms-gateway-store-floor-');
  try {
    const store = await openStore({ dataDir });
    const sandbox = (await bootstrapSandbox(store))!;
    const lookup = createNumberLookup({ table: loadPrefixTable(DEMO_PREFIX_TABLE_URL) });
    const deps: SendDeps = {
      store,
      lookupNumber: (e164) => lookup.lookup(e164),
      analyzeText,
      rates: null,
      queueLifetimeMs: 4 * 3600_000,
    };
    const request = groupMmsRequestSchema.parse({
      from: sandbox.numbers[0],
      to: ['+13125550100', '+13125550101', '+13125550102'],
      text: 'Hello from the accept bench',
    });
    const accept = () => createGroupMms(deps, sandbox.organizationId, request);

    await measure(2000, IN_FLIGHT, accept); // warm-up
    const writes = await measure(MESSAGES, IN_FLIGHT, accept);
    const one = await accept();
    const reads = await measure(MESSAGES, IN_FLIGHT, () =>
      store.messages.getForOrganization(sandbox.organizationId, one.id),
    );
    const stored = await store.jobs.count('message.send');
    await store.close();
    if (stored !== MESSAGES + 2001) throw new Error(`expected ${MESSAGES + 2001} send jobs, found ${stored}`);

    const result = {
      bench: 'store-floor',
      date: new Date().toISOString(),
      machine: machineBasics(),
      storage: 'sqlite wal synchronous=NORMAL, the gateway store as opened by the gateway',
      in_flight: IN_FLIGHT,
      accept_without_http: writes,
      read_back_without_http: reads,
    };
    const written = writeResults('store-floor', result);
    const row = (name: string, f: typeof writes) =>
      `${name.padEnd(34)} ${String(f.cpu_us_per_operation).padStart(7)} µs CPU each (${f.in_sqlite_us_per_operation} µs inside SQLite statements)   ${String(f.rate_on_one_core_per_s).padStart(7)}/s on one core`;
    process.stdout.write(
      [
        `${MESSAGES} operations, ${IN_FLIGHT} in flight, one process`,
        row('createGroupMms (3 recipients)', writes),
        row('getForOrganization (read back)', reads),
        `written to ${written}`,
        '',
      ].join('\n'),
    );
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export const bench: Bench = {
  name: 'store-floor',
  description: 'the storage part of accepting and reading a group MMS on SQLite, without HTTP',
  run,
};
