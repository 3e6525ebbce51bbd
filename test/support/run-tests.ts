import { spawn } from 'node:child_process';
import os from 'node:os';
import readline from 'node:readline';
import { startPostgresServer } from './postgres-server.ts';
import { expandTestPatterns } from './test-files.ts';

// `npm test [-- options] [files or globs]`: one embedded PostgreSQL for the whole run, its admin URL
// handed to every test process as TEST_DATABASE_URL.
//
// The gateway-level suites (test/api, test/pipeline) run their gateways on whichever store
// TEST_STORE names (see test/support/gateway.ts), so they run twice: once with TEST_STORE=sqlite,
// together with every other file, and once with TEST_STORE=postgres. The other folders run once:
// they pick their stores themselves (test/store runs on both, test/cluster on PostgreSQL). Every
// output line is prefixed with the store of its run, and the exit code fails if either run fails.
// `TEST_STORE=postgres npm test -- <files>` runs just the given files, just on that store.
const args = process.argv.slice(2);
const nodeOptions = args.filter((a) => a.startsWith('-'));
const patterns = args.filter((a) => !a.startsWith('-'));
const files = expandTestPatterns(patterns.length > 0 ? patterns : ['test/**/*.test.ts']);
if (files.length === 0) {
  console.error(`no test files match ${patterns.join(' ')}`);
  process.exit(1);
}

/** Files whose gateways follow TEST_STORE. */
const GATEWAY_LEVEL = /^test\/(api|pipeline)\//;
const onBothStores = files.filter((f) => GATEWAY_LEVEL.test(f.split('\\').join('/')));

interface Run {
  store: 'sqlite' | 'postgres';
  files: string[];
}
// TEST_STORE=sqlite|postgres in the environment: that one run only, over every file given.
const only = process.env.TEST_STORE;
if (only !== undefined && only !== 'sqlite' && only !== 'postgres') {
  console.error(`TEST_STORE must be sqlite or postgres, not ${JSON.stringify(only)}`);
  process.exit(1);
}
const runs: Run[] = only
  ? [{ store: only, files }]
  : [
      { store: 'sqlite', files },
      ...(onBothStores.length > 0 ? [{ store: 'postgres' as const, files: onBothStores }] : []),
    ];

const startedAt = Date.now();
const server = await startPostgresServer();
console.error(`# embedded PostgreSQL on 127.0.0.1:${server.port}, ready in ${Date.now() - startedAt} ms`);

// Output is piped (to prefix it), so ask for the human-readable reporter unless one was chosen.
const reporter = nodeOptions.some((o) => o.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
const children = new Set<ReturnType<typeof spawn>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

async function run({ store, files: runFiles }: Run): Promise<number> {
  const label = `[${store}]`.padEnd(10);
  console.error(`${label} # TEST_STORE=${store}: ${runFiles.length} files`);
  for (const file of runFiles) console.error(`${label} #   ${file}`);
  const runStartedAt = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-timeout=600000',
      ...reporter,
      ...nodeOptions,
      ...runFiles,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TEST_DATABASE_URL: server.url, TEST_STORE: store },
    },
  );
  children.add(child);
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      out.write(`${label} ${line}\n`);
      const count = /^ℹ (pass|fail) (\d+)$/.exec(line);
      if (count) totals[count[1] as 'pass' | 'fail'] += Number(count[2]);
    });
  }
  const code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      console.error(err);
      resolve(1);
    });
    child.on('close', (exitCode, signal) =>
      resolve(exitCode ?? 128 + (signal ? os.constants.signals[signal] : 0)),
    );
  });
  children.delete(child);
  console.error(
    `${label} # TEST_STORE=${store}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${Math.round((Date.now() - runStartedAt) / 1000)} s`,
  );
  return code;
}

const totals = { pass: 0, fail: 0 };

// One run after the other: each already runs two files at a time, all this 2-core machine takes
// without the timing-sensitive crash tests starving.
const codes: number[] = [];
for (const r of runs) codes.push(await run(r));
await server.stop();
for (const [i, r] of runs.entries()) {
  console.error(`# TEST_STORE=${r.store} (${r.files.length} files): ${codes[i] === 0 ? 'passed' : 'FAILED'}`);
}
console.error(`# npm test took ${Math.round((Date.now() - startedAt) / 1000)} s`);
// One plain closing line over both runs (each run's own summary carries a store prefix).
console.log(`total: ${totals.pass} passed, ${totals.fail} failed`);
process.exit(codes.find((c) => c !== 0) ?? 0);
