import { readResults } from './results-file.ts';

// The targets of issue 11, read side by side from what the benches of this run wrote.
type Json = Record<string, unknown>;

const at = (o: Json | null, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);

interface Row {
  measure: string;
  before: string;
  /**
   * Last measured on 2026-12-02 at the end of session 7 (one `npm run bench` at 162fe0c, load
   * 0.9–2.6), with the range of the session's five full runs at its final code. See BENCHMARKS.md,
   * "Issue 11, session 7".
   */
  lastMeasured: string;
  target: string;
  value: unknown;
  met: (v: number) => boolean;
}

/** Prints the target table from this run's result files; a bench not run shows "not run". */
export function printTargets(since: number): void {
  const e2e = readResults('e2e', since);
  const pg = readResults('postgres', since);
  const accept = readResults('accept', since);
  const rows: Row[] = [
    {
      measure: 'SQLite full pipeline, msg/s sustained',
      before: '273–363',
      lastMeasured: '1,085.2 (946.5–1,170.8 in five runs, four met; 811.8–885.9 over the whole run), met',
      target: '≥ 1,000',
      value: at(e2e, 'throughput.sustained_completion_rate_per_s'),
      met: (v) => v >= 1000,
    },
    {
      measure: 'SQLite gateway CPU per message, ms',
      before: '4.3',
      lastMeasured: '1.25 (1.22–1.33 in five runs), met',
      target: '≤ 1.5',
      value: at(e2e, 'throughput.gateway_cpu_ms_per_message'),
      met: (v) => v <= 1.5,
    },
    {
      measure: 'at 500 msg/s: 200 → last finalized, p50 ms',
      before: '6,000',
      lastMeasured: '11.6 (10.3–12.3 in five runs; 7 at 339 msg/s), met',
      target: '≤ 20',
      value: at(e2e, 'latency_at_target_rate.accepted_to_finalized_ms.p50_ms'),
      met: (v) => v <= 20,
    },
    {
      measure: 'at 500 msg/s: 200 → last finalized, p99 ms',
      before: '7,400',
      lastMeasured: '38.2 (33.6–53.9 in five runs; 15 at 339 msg/s), met',
      target: '≤ 100',
      value: at(e2e, 'latency_at_target_rate.accepted_to_finalized_ms.p99_ms'),
      met: (v) => v <= 100,
    },
    {
      measure: 'PostgreSQL 1 node, commits per message (64 in flight)',
      before: '49–51',
      lastMeasured: '2.02 (1.84–2.05 in five runs), met',
      target: '≤ 3',
      value: at(pg, 'pipeline.postgres_1.postgres_commits_per_message'),
      met: (v) => v <= 3,
    },
    {
      measure: 'PostgreSQL CPU per message, ms',
      before: '27.5',
      lastMeasured: '2.01 (1.78–2.01 in five runs), met',
      target: '≤ 3',
      value: at(pg, 'pipeline.postgres_1.postgres_cpu_ms_per_message'),
      met: (v) => v <= 3,
    },
    {
      measure: 'PostgreSQL 1 node pipeline / SQLite (same run)',
      before: '0.19',
      lastMeasured: '0.5 (0.50–0.55 in five runs), met',
      target: '≥ 0.5',
      value: at(pg, 'ratios.pipeline.postgres_1_to_sqlite_1'),
      met: (v) => v >= 0.5,
    },
    {
      measure: 'accept rate / bare Fastify echo',
      before: '0.18–0.25',
      lastMeasured: '0.106 (0.097–0.108 in five runs; GET of one message 0.22–0.235), NOT met',
      target: '≥ 0.33',
      value: at(accept, 'ratio_gateway_to_fastify'),
      met: (v) => v >= 0.33,
    },
  ];
  process.stdout.write('\n== targets of issue 11 (this run)\n');
  for (const r of rows) {
    const v = typeof r.value === 'number' ? r.value : null;
    const verdict = v === null ? 'not run' : r.met(v) ? 'met' : 'NOT met';
    process.stdout.write(
      `${r.measure.padEnd(56)} ${String(v ?? '-').padStart(8)}  (before ${r.before}; last measured ${r.lastMeasured}; target ${r.target}) ${verdict}\n`,
    );
  }
}
