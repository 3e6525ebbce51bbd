import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPostgres } from '../../src/store/postgres/postgres-driver.ts';
import type { SqlDriver } from '../../src/store/sql/driver.ts';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';
import { createStore, type Store } from '../../src/store/store.ts';

export type StoreName = 'sqlite' | 'postgres';

function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'TEST_DATABASE_URL is not set, so the PostgreSQL tests cannot run. Run tests through `npm test` ' +
        '(`tsx test/support/run-tests.ts [files or globs]`), which starts an embedded PostgreSQL for them.',
    );
  }
  return url;
}

async function asAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database on the shared test server; returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await asAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Whether the database at `url` holds an organization (false before the gateway's tables exist). */
export async function databaseHasOrganizations(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const table = await client.query<{ t: string | null }>("SELECT to_regclass('organizations') AS t");
    if (table.rows[0]?.t === null) return false;
    const rows = await client.query('SELECT 1 FROM organizations LIMIT 1');
    return rows.rowCount !== null && rows.rowCount > 0;
  } finally {
    await client.end();
  }
}

export async function dropTestDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  await asAdmin((client) =>
    client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  );
}

function closingAlso(store: Store, cleanUp: () => Promise<void>): Store {
  return {
    ...store,
    async close() {
      try {
        await store.close();
      } finally {
        await cleanUp();
      }
    },
  };
}

/** Lets a test see every statement a store runs (see test/support/counting-driver.ts). */
export type WrapDriver = (driver: SqlDriver) => SqlDriver;

async function openSqliteStore(wrap: WrapDriver = (d) => d): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-sqlite-'));
  const store = createStore(wrap(openSqlite(path.join(dir, 'gateway.sqlite'))));
  await store.migrate();
  return closingAlso(store, async () => fs.rmSync(dir, { recursive: true, force: true }));
}

async function openPostgresStore(wrap: WrapDriver = (d) => d): Promise<Store> {
  const url = await createTestDatabase();
  const store = createStore(wrap(await openPostgres(url)));
  await store.migrate();
  return closingAlso(store, () => dropTestDatabase(url));
}

/**
 * Each store the gateway supports, opening fresh and migrated: a SQLite file in a temp dir, or a new
 * database on the test PostgreSQL server. Closing one also deletes it.
 */
export function storesUnderTest(): Array<{ name: StoreName; open(wrap?: WrapDriver): Promise<Store> }> {
  return [
    { name: 'sqlite', open: openSqliteStore },
    { name: 'postgres', open: openPostgresStore },
  ];
}
