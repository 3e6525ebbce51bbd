import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dialect } from '../sql/driver.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Numbered migrations, `<dialect>/NNN_name.sql`, applied in order. */
export function loadMigrations(dialect: Dialect): Migration[] {
  const dir = path.join(here, dialect);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = /^(\d+)_(.+)\.sql$/.exec(file);
      if (!match) throw new Error(`Bad migration file name: ${file}`);
      return {
        version: Number(match[1]),
        name: match[2]!,
        sql: fs.readFileSync(path.join(dir, file), 'utf8'),
      };
    });
}
