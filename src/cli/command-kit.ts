import { loadConfig } from '../config/config.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';

/** A mistake of the person at the terminal: printed as `error: …`, exit code 1, no stack. */
export class CliError extends Error {}

export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function output(json: boolean, data: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : human === '' ? '' : `${human}\n`);
}

/** Rows as aligned columns for people. */
export function table(rows: Array<Array<string | null>>): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, (cell ?? '-').length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (cell ?? '-').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function run<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  return (...args: A) =>
    action(...args).catch((err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
