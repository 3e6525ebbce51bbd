import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

/** What every result file says about the machine it was measured on. */
export function machineBasics() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.availableParallelism(),
  };
}

/** Writes bench/results/<name>.json and returns its path relative to the working directory. */
export function writeResults(name: string, result: unknown): string {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}

/** bench/results/<name>.json, or null when missing or written before `since` (not measured in this run). */
export function readResults(name: string, since: number): Record<string, unknown> | null {
  const file = path.join(RESULTS_DIR, `${name}.json`);
  try {
    if (fs.statSync(file).mtimeMs < since) return null;
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
