import type { Dialect } from './driver.ts';

/**
 * The clause that locks the rows a SELECT reads until the transaction ends, on PostgreSQL. SQLite
 * needs none: a transaction there holds the database's one write lock from BEGIN IMMEDIATE on.
 */
export function rowLock(dialect: Dialect, mode: 'UPDATE' | 'SHARE'): string {
  return dialect === 'postgres' ? ` FOR ${mode}` : '';
}
