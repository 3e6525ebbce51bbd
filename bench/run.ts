/**
 * `npm run bench` entry: runs every bench in BENCHES in turn, or only those named on the command line
 * (`npm run bench -- accept`). A bench is a module exporting `bench: Bench`; to add one, add its name
 * and loader to BENCHES. Modules are loaded only when their bench runs.
 */

import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../test/support/gateway.ts';
import { printTargets } from './targets.ts';

export interface Bench {
  /** Short name, used to pick benches from the command line and to name bench/results/<name>.json. */
  name: string;
  description: string;
  /** Runs the bench, prints its figures and writes them under bench/results. Throws when a check fails. */
  run(): Promise<void>;
}

const BENCHES: Array<{ name: string; load: () => Promise<{ bench: Bench }> }> = [
  { name: 'accept', load: () => import('./accept.ts') },
  { name: 'e2e', load: () => import('./e2e.ts') },
  { name: 'postgres', load: () => import('./postgres.ts') },
  { name: 'store-floor', load: () => import('./store-floor.ts') },
];

async function main(): Promise<void> {
  const startedAt = Date.now();
  const wanted = new Set(process.argv.slice(2));
  const unknown = [...wanted].filter((name) => !BENCHES.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  }
  // The gateways measured are the build, what `npm start` runs (tsx adds its helpers to every
  // function it transpiles: about 8 % more CPU per message in the e2e bench).
  process.stdout.write('building the gateway (npm run build)…\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
  process.env.GATEWAY_FROM_BUILD = '1';
  let failed = 0;
  for (const entry of BENCHES) {
    if (wanted.size > 0 && !wanted.has(entry.name)) continue;
    try {
      const { bench } = await entry.load();
      process.stdout.write(`\n== ${bench.name}: ${bench.description}\n`);
      await bench.run();
    } catch (err) {
      failed++;
      process.stderr.write(
        `bench ${entry.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`,
      );
    }
  }
  printTargets(startedAt);
  if (failed > 0) process.exitCode = 1;
}

await main();
