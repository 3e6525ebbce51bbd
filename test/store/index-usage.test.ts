import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openPostgres } from '../../src/store/postgres/postgres-driver.ts';
import type { SqlDriver, SqlExecutor } from '../../src/store/sql/driver.ts';
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';
import { createStore, type Store } from '../../src/store/store.ts';
import { createTestDatabase, dropTestDatabase, type StoreName } from '../support/databases.ts';
import {
  iso,
  message,
  phoneNumber,
  profile,
  recipient,
  seedOrganization,
  webhookEvent,
} from '../support/store-fixtures.ts';

// "No index that no query uses": every statement the repositories of the non-job tables send is
// EXPLAINed on both databases; every non-unique index of those tables must serve one of them, and no
// statement may scan a whole table except the few listed here. (The job tables are the queue's.)

const JOB_TABLES = /\bjobs\b/;
/** Statements that read a whole table on purpose. */
const FULL_SCANS_ALLOWED = [
  'SELECT COUNT(*) AS n FROM organizations', // is the database empty (start-up only)
  'SELECT * FROM simulator_submissions ORDER BY created_at', // the simulator's ledger, in tests
];

/** Records the SQL and parameters of every statement, in and outside transactions. */
function recording(driver: SqlDriver, seen: Map<string, unknown[]>): SqlDriver {
  const wrap = (ex: SqlExecutor): SqlExecutor => ({
    all(sql, params) {
      seen.set(sql, params ?? []);
      return ex.all(sql, params);
    },
    get(sql, params) {
      seen.set(sql, params ?? []);
      return ex.get(sql, params);
    },
    run(sql, params) {
      seen.set(sql, params ?? []);
      return ex.run(sql, params);
    },
  });
  return { ...driver, ...wrap(driver), transaction: (fn) => driver.transaction((tx) => fn(wrap(tx))) };
}

const deliveredAttempt = (eventId: string) => ({
  event_id: eventId,
  attempt: 1,
  url: 'https://hooks.example.com/',
  outcome: 'delivered',
  status_code: 200,
  duration_ms: 3,
  response_body: null,
  error: null,
  created_at: iso(4),
});

/** Calls every repository method of the non-job tables once. */
async function exercise(store: Store): Promise<void> {
  const org = (await seedOrganization(store, 'org_1')).id;
  await store.organizations.get(org);
  await store.organizations.count();
  await store.apiKeys.create({
    id: 'key_1',
    organization_id: org,
    key_hash: 'h',
    prefix: 'KEYh',
    created_at: iso(0),
    revoked_at: null,
  });
  await store.apiKeys.findActiveByHash('h');
  const p = profile(org, 'prof_1');
  await store.profiles.create(p);
  await store.profiles.create(profile(org, 'prof_2'));
  await store.transaction(async (tx) => {
    await tx.profiles.get(org, p.id, 'UPDATE');
    await tx.profiles.get(org, p.id, 'SHARE');
  });
  await store.profiles.get(org, p.id);
  await store.profiles.list(org, { number: 1, size: 20 });
  await store.profiles.update(org, p.id, p.data, iso(1));
  await store.numbers.add(phoneNumber(org, 'num_1', '+15550001000', p.id));
  await store.profiles.getBySenderNumber(org, '+15550001000');
  await store.transaction((tx) => tx.numbers.findByIdOrNumber(org, 'num_1', true));
  await store.numbers.findByIdOrNumber(org, '+15550001000');
  await store.numbers.update(org, 'num_1', { messaging_profile_id: p.id, tags: [] }, iso(1));
  await store.numbers.listByProfile(org, p.id, { number: 1, size: 20 });
  await store.transaction((tx) => tx.profiles.delete(org, 'prof_2'));
  await store.messages.insert(message(org, p.id, 'msg_1'), [recipient('msg_1', 'rcp_1', 0, '+15550002000')]);
  await store.messages.getForOrganization(org, 'msg_1');
  await store.messages.get('msg_1');
  await store.messages.getRecipientForOrganization(org, 'rcp_1');
  await store.messages.updateMedia('msg_1', []);
  await store.messages.transitionRecipient(
    'rcp_1',
    ['queued'],
    { status: 'sent', carrier_message_id: 'car_1', errors: [], sent_at: iso(2), completed_at: iso(3) },
    iso(3),
  );
  await store.messages.findRecipientByCarrierId('car_1');
  await store.messages.findRecipientByCarrierId('car_1', '+15550002000');
  await store.webhooks.insertEvent(webhookEvent(org, 'msg_1', 'whe_1', 0));
  await store.webhooks.getEvent('whe_1');
  await store.webhooks.updateEvent('whe_1', {
    urls: [],
    status: 'delivered',
    attempts: 1,
    delivered_to: null,
    completed_at: iso(4),
  });
  await store.webhooks.insertAttempt(deliveredAttempt('whe_1'));
  await store.webhooks.listEventsForMessage('msg_1');
  await store.webhooks.listAttemptsForMessage('msg_1');
  const entry = { idempotency_key: 'k', recipient_id: 'rcp_1', phone_number: '+15550002000' };
  await store.simulator.record({ ...entry, carrier_message_id: 'car_1', created_at: iso(5) });
  await store.simulator.list();
  const signingKey = { organization_id: org, private_key_pem: 'x', public_key: 'y', created_at: iso(0) };
  await store.organizationSigningKeys.insertFirst({ ...signingKey, active_from: iso(0) });
  await store.organizationSigningKeys.listUnretired(org, iso(1));
}

/**
 * Many organizations with many messages, events and attempts, so PostgreSQL's statistics (after
 * ANALYZE, as autovacuum keeps them in production) make it choose between indexes as it would live.
 */
async function populate(store: Store): Promise<void> {
  await store.transaction(async (tx) => {
    for (let o = 0; o < 10; o++) {
      // The first is the organization `exercise` made, whose statements are EXPLAINed.
      const org = o === 0 ? 'org_1' : (await seedOrganization(tx, `org_p${o}`)).id;
      await tx.profiles.create(profile(org, `prof_p${o}`));
      for (let m = 0; m < 40; m++) {
        const id = `msg_p${o}_${m}`;
        await tx.messages.insert(
          message(org, `prof_p${o}`, id),
          [0, 1, 2].map((i) => recipient(id, `rcp_p${o}_${m}_${i}`, i, `+1555000${o}${m}${i}`)),
        );
        for (const e of [0, 1]) {
          await tx.webhooks.insertEvent(webhookEvent(org, id, `whe_p${o}_${m}_${e}`, e));
          await tx.webhooks.insertAttempt(deliveredAttempt(`whe_p${o}_${m}_${e}`));
        }
      }
    }
  });
}

interface Plan {
  indexes: string[];
  fullScans: string[];
}

async function sqlitePlan(db: SqlDriver, sql: string, params: unknown[]): Promise<Plan> {
  const rows = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
  const indexes = rows.flatMap((r) => /USING (?:COVERING )?INDEX (\S+)/.exec(r.detail)?.[1] ?? []);
  const fullScans = rows.flatMap((r) => /^SCAN (\w+)$/.exec(r.detail)?.[1] ?? []);
  return { indexes, fullScans };
}

async function postgresPlan(db: SqlDriver, sql: string, params: unknown[]): Promise<Plan> {
  return db.transaction(async (tx) => {
    // Tables this small are cheapest to scan whole; ask which index the planner would use when they
    // are not.
    await tx.run('SET LOCAL enable_seqscan = off');
    const [row] = await tx.all<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const plan: Plan = { indexes: [], fullScans: [] };
    const walk = (node: Record<string, unknown>) => {
      if (typeof node['Index Name'] === 'string') plan.indexes.push(node['Index Name']);
      if (node['Node Type'] === 'Seq Scan') plan.fullScans.push(String(node['Relation Name']));
      for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
    };
    const root = (row!['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan;
    walk(root);
    return plan;
  });
}

async function nonUniqueIndexes(db: SqlDriver): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ name: string; tbl: string }>(
          // Constraint indexes (UNIQUE, PRIMARY KEY) have no SQL of their own.
          "SELECT name, tbl_name AS tbl FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'",
        )
      : await db.all<{ name: string; tbl: string }>(
          `SELECT i.relname AS name, t.relname AS tbl FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           WHERE n.nspname = current_schema() AND NOT x.indisunique`,
        );
  return rows.filter((r) => !JOB_TABLES.test(r.tbl)).map((r) => r.name);
}

for (const name of ['sqlite', 'postgres'] as StoreName[]) {
  test(`${name}: every index of the non-job tables serves a query, and no query scans a whole table`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-index-usage-'));
    const url = name === 'postgres' ? await createTestDatabase() : undefined;
    const driver = url ? await openPostgres(url) : openSqlite(path.join(dir, 'g.sqlite'));
    try {
      await driver.migrate();
      const seen = new Map<string, unknown[]>();
      await exercise(createStore(recording(driver, seen)));
      await populate(createStore(driver));
      if (name === 'postgres') await driver.run('ANALYZE');
      const used = new Set<string>();
      const scans: string[] = [];
      for (const [sql, params] of seen) {
        if (JOB_TABLES.test(sql) || !/^\s*(SELECT|UPDATE|DELETE)\b.*\bFROM|^\s*UPDATE\b/is.test(sql))
          continue;
        const plan =
          name === 'sqlite' ? await sqlitePlan(driver, sql, params) : await postgresPlan(driver, sql, params);
        for (const index of plan.indexes) used.add(index);
        if (plan.fullScans.length > 0 && !FULL_SCANS_ALLOWED.includes(sql)) scans.push(sql);
      }
      assert.deepEqual(scans, [], 'statements that scan a whole table');
      const unused = (await nonUniqueIndexes(driver)).filter((index) => !used.has(index));
      assert.deepEqual(unused, [], 'indexes no statement uses');
    } finally {
      await driver.close();
      if (url) await dropTestDatabase(url);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
