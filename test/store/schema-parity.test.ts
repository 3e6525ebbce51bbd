import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openPostgres } from '../../src/store/postgres/postgres-driver.ts';
import type { SqlExecutor } from '../../src/store/sql/driver.ts';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';
import { createTestDatabase, dropTestDatabase } from '../support/databases.ts';

interface Column {
  table: string;
  column: string;
  type: 'INTEGER' | 'TEXT';
  notNull: boolean;
}

interface Schema {
  columns: Column[];
  indexes: string[];
}

const byName = (a: Column, b: Column) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`);

async function sqliteSchema(db: SqlExecutor): Promise<Schema> {
  const rows = await db.all<{
    table_name: string;
    column_name: string;
    type: string;
    not_null: number;
    pk: number;
  }>(
    `SELECT m.name AS table_name, p.name AS column_name, p.type AS type, p."notnull" AS not_null, p.pk AS pk
     FROM sqlite_master m, pragma_table_info(m.name) p
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
  );
  const indexes = await db.all<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'",
  );
  return {
    columns: rows
      .map((r) => ({
        table: r.table_name,
        column: r.column_name,
        type: r.type === 'INTEGER' ? ('INTEGER' as const) : ('TEXT' as const),
        // PostgreSQL makes every primary key column NOT NULL; SQLite only says so for INTEGER ones.
        notNull: r.not_null === 1 || r.pk > 0,
      }))
      .sort(byName),
    indexes: indexes.map((r) => r.name).sort(),
  };
}

async function postgresSchema(db: SqlExecutor): Promise<Schema> {
  const rows = await db.all<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
  }>(
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = current_schema()`,
  );
  const indexes = await db.all<{ indexname: string }>(
    `SELECT i.indexname FROM pg_indexes i
     WHERE i.schemaname = current_schema()
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  return {
    columns: rows
      .map((r) => ({
        table: r.table_name,
        column: r.column_name,
        type: ['integer', 'bigint'].includes(r.data_type) ? ('INTEGER' as const) : ('TEXT' as const),
        notNull: r.is_nullable === 'NO',
      }))
      .sort(byName),
    indexes: indexes.map((r) => r.indexname).sort(),
  };
}

test('the SQLite and PostgreSQL migrations create the same tables, columns and indexes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-schema-'));
  const url = await createTestDatabase();
  const sqlite = openSqlite(path.join(dir, 'schema.sqlite'));
  const postgres = await openPostgres(url, { poolSize: 1 });
  try {
    await sqlite.migrate();
    await postgres.migrate();
    const expected = await sqliteSchema(sqlite);
    assert.ok(expected.columns.length > 50 && expected.indexes.length > 5, 'the SQLite schema was read');
    assert.deepEqual(await postgresSchema(postgres), expected);
  } finally {
    await sqlite.close();
    await postgres.close();
    await dropTestDatabase(url);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
