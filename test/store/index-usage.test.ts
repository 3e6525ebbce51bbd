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
  'SELECT direction FROM messages WHERE 1 = 0', // probes for the column, reads no row (SQLite says SCAN)
  'SELECT * FROM sender_limits ORDER BY subject', // the operator's `limits list`
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

/** Every combination of the given filters (each present or absent): the list routes accept any. */
function combinations<T extends object>(all: T): Array<Partial<T>> {
  const keys = Object.keys(all) as Array<keyof T>;
  return Array.from({ length: 2 ** keys.length }, (_, mask) =>
    Object.fromEntries(keys.filter((_, i) => mask & (2 ** i)).map((k) => [k, all[k]])),
  ) as Array<Partial<T>>;
}

const receipt = (id: string, at: number) => ({
  id,
  connector: 'mmsc',
  kind: 'deliver',
  carrier_message_id: `mm7_${id}`,
  payload: { from: '+15550009000' },
  message_ids: [],
  routed: false,
  received_at: iso(at),
});

/** Calls every repository method of the non-job tables, and the list methods with every filter combination. */
async function exercise(store: Store): Promise<void> {
  const org = (await seedOrganization(store, 'org_1')).id;
  await store.organizations.get(org);
  await store.organizations.count();
  await store.transaction((tx) => tx.organizations.lockFirstStart());
  await store.apiKeys.create({
    id: 'key_1',
    organization_id: org,
    key_hash: 'h',
    prefix: 'KEYh',
    created_at: iso(0),
    revoked_at: null,
  });
  await store.apiKeys.findActiveByHash('h');
  await store.apiKeys.touchLastUsed('key_1', iso(1));
  await store.apiKeys.listForOrganization(org);
  await store.apiKeys.get('key_1');
  await store.apiKeys.revoke('key_1', iso(2));
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
  await store.numbers.findByNumbers(['+15550001000', '+15550002000']);
  await store.numbers.update(org, 'num_1', { messaging_profile_id: p.id, tags: [] }, iso(1));
  await store.numbers.listForOrganization(org, { number: 1, size: 250 });
  await store.numbers.listByProfile(org, p.id, { number: 1, size: 20 });
  await store.transaction((tx) => tx.profiles.delete(org, 'prof_2'));

  await store.connectors.add({
    name: 'mmsc',
    type: 'mm7',
    settings: {},
    created_at: iso(0),
    updated_at: iso(0),
  });
  await store.connectors.add({
    name: 'spare',
    type: 'mm7',
    settings: {},
    created_at: iso(0),
    updated_at: iso(0),
  });
  await store.connectors.get('mmsc');
  await store.connectors.list();
  await store.connectors.remove('spare');
  await store.routes.profileExists(p.id);
  await store.routes.set({ messaging_profile_id: p.id, connectors: ['mmsc'], updated_at: iso(0) });
  await store.routes.get(p.id);
  await store.routes.list();
  // Failover (breakers) and throughput limits (slots, the line of waiting messages, sender limits).
  await store.breakers.states(['mmsc', 'simulator']);
  await store.breakers.recordFailure('mmsc', 3, 1000);
  await store.breakers.claimTrial('mmsc', 1000);
  await store.breakers.recordSuccess('mmsc');
  await store.breakers.recordMessageConnector('msg_1', 'mmsc');
  await store.throughput.setSenderLimit('number:+15550001000', 1, iso(0));
  await store.throughput.setSenderLimit(`profile:${p.id}`, 2, iso(0));
  await store.throughput.senderLimits('+15550001000', p.id);
  await store.throughput.listSenderLimits();
  await store.throughput.setSenderLimit(`profile:${p.id}`, null, iso(0));
  const keys = [
    { key: 'sender:+15550001000', intervalMs: 1000 },
    { key: 'connector:mmsc', intervalMs: 100 },
  ];
  const admit = (id: string, leadMs: number) =>
    store.transaction((tx) => tx.throughput.admit(id, keys, { leadMs, maxInlineMs: leadMs, mayWait: true }));
  await admit('msg_a', 0); // goes at once
  await admit('msg_c', 0); // waits in line
  await admit('msg_b', 0); // accepted before msg_c: takes its place
  await admit('msg_b', 1e9); // its turn
  await store.transaction((tx) => tx.throughput.wentLate(keys, Date.now() + 5));
  await store.transaction((tx) => tx.throughput.claimSend(keys));
  await store.inboundReceipts.insert(receipt('inr_1', 0));
  await store.inboundReceipts.list(1000);
  await store.inboundReceipts.findByDedupKey('bandwidth:bw:bw-id-1');

  await store.rateLimits.take([
    { bucket: `org:${org}`, windowStart: 0, take: 1 },
    { bucket: `profile:${p.id}`, windowStart: 0, take: 1 },
  ]);
  await store.spend.addWithinLimit(p.id, '2024-01-01', 4000, 1_000_000);
  await store.spend.spent(p.id, '2024-01-01');
  const claim = { organization_id: org, idempotency_key: 'idem_1', request_hash: 'rh', message_id: 'msg_1' };
  await store.transaction((tx) =>
    tx.idempotency.claim({ ...claim, response: '{}', created_at: iso(1) }, iso(0)),
  );
  await store.idempotency.find(org, 'idem_1', iso(0));
  await store.dashboardSessions.create({
    id_hash: 'sess',
    organization_id: org,
    csrf_token: 'csrf',
    created_at: iso(0),
    expires_at: iso(3_600_000),
  });
  await store.dashboardSessions.get('sess', iso(1));
  await store.dashboardSessions.delete('sess');

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
  // The pipeline's batched statements: a message's recipients at once, many jobs' rows at once.
  await store.messages.transitionRecipients(
    [{ id: 'rcp_1' }],
    ['sent'],
    { status: 'sent', errors: [], carrierIds: new Map([['rcp_1', 'car_1']]) },
    iso(3),
  );
  await store.messages.findRecipientsByCarrierIds([
    { carrierMessageId: 'car_1' },
    { carrierMessageId: 'car_2' },
  ]);
  await store.messages.recipientsWithCarrierIds(['car_1', 'car_2']);
  await store.messages.getMessages(['msg_1', 'msg_2']);
  await store.messages.getMany(['msg_1', 'msg_2']);
  // GET /v2/messages and the dashboard pass any of these, and page on with a cursor (page[after]).
  for (const { after, ...filter } of combinations({
    direction: 'outbound' as const,
    status: 'delivered',
    from: '+15550001000',
    to: '+15550002000',
    receivedGte: '2024-01-01T00:00:00.000Z',
    receivedLte: '2024-01-01T23:59:59.999Z',
    search: 'hello',
    after: { received_at: iso(5 * 60_000), id: 'msg_p0_5' },
  })) {
    await store.messages.listForOrganization(org, filter, 51, after);
  }
  await store.messages.listConversation(org, ['+15550001000', '+15550002000'], 30);
  await store.messages.listConversation(org, ['+15550001000', '+15550002000', '+15550003000'], 30);

  await store.webhooks.insertEvent(webhookEvent(org, 'msg_1', 'whe_1', 0));
  await store.webhooks.getEvent('whe_1');
  await store.webhooks.insertEvents([
    webhookEvent(org, 'msg_1', 'whe_2', 1),
    webhookEvent(org, 'msg_1', 'whe_3', 2),
  ]);
  await store.webhooks.getEvents(['whe_1', 'whe_2']);
  await store.webhooks.getEventForOrganization(org, 'whe_1');
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
  await store.webhooks.listAttemptsForEvents(['whe_1']);
  await store.webhooks.listAttemptsForEvents(['whe_1', 'whe_p0_0_0', 'whe_p0_0_1']);
  for (const filter of combinations({
    status: 'failed' as const,
    eventTypes: ['message.sent', 'message.finalized'],
    webhookContains: 'finalized',
    attemptsContains: '503',
    startedGte: iso(0),
    startedLte: iso(86_400_000),
    finishedGte: iso(0),
    finishedLte: iso(86_400_000),
  })) {
    // GET /v2/webhook_deliveries takes any of these filters.
    await store.webhooks.listForOrganization(org, filter, { number: 2, size: 20 });
  }
  await store.webhooks.listForOrganization(
    org,
    { eventTypes: ['message.finalized'] },
    { number: 1, size: 20 },
  );
  await store.transaction((tx) => tx.webhooks.reopenEvent('whe_1'));

  const entry = { idempotency_key: 'k', recipient_id: 'rcp_1', phone_number: '+15550002000' };
  await store.simulator.record({ ...entry, carrier_message_id: 'car_1', created_at: iso(5) });
  await store.simulator.recordMany([
    { ...entry, carrier_message_id: 'car_1', created_at: iso(5) },
    { ...entry, recipient_id: 'rcp_2', carrier_message_id: 'car_2', created_at: iso(5) },
  ]);
  await store.simulator.list();
  const signingKey = { organization_id: org, private_key_pem: 'x', public_key: 'y', created_at: iso(0) };
  await store.organizationSigningKeys.organizationsWithoutKey();
  await store.organizationSigningKeys.insertFirst({ ...signingKey, active_from: iso(0) });
  await store.transaction(async (tx) => {
    await tx.organizationSigningKeys.retireAll(org, iso(86_400_000));
    await tx.organizationSigningKeys.insert({
      ...signingKey,
      id: 'osk_2',
      active_from: iso(3_600_000),
      retired_at: null,
    });
  });
  await store.organizationSigningKeys.listUnretired(org, iso(1));

  // Chaos mode's faults are read by message (GET /v2/messages/{id}, the faults list).
  await store.chaos.insertFault({
    id: 'cf_1',
    rule_id: 'cr_1',
    organization_id: org,
    message_id: 'msg_1',
    recipient_id: null,
    webhook_event_id: null,
    kind: 'webhook.fail',
    detail: '{}',
    created_at: iso(1),
  });
  await store.chaos.faultsForMessage('msg_1');
  await store.chaos.listFaults(org, 'msg_1');

  await store.optOuts.add({
    messaging_profile_id: p.id,
    to_number: '+15550002000',
    organization_id: org,
    from_number: '+15550001000',
    keyword: 'STOP',
    created_at: iso(1),
  });
  await store.optOuts.blockedAmong(p.id, ['+15550002000']);
  await store.optOuts.blockedAmong(p.id, ['+15550002000', '+15550003000', '+15550004000']);
  for (const filter of combinations({
    messagingProfileId: p.id,
    from: '+15550001000',
    createdGte: iso(0),
    createdLte: iso(5),
  })) {
    // GET /v2/messaging_optouts takes any of these filters.
    await store.optOuts.list(org, filter, { number: 2, size: 20 });
  }
  await store.optOuts.remove(p.id, '+15550002000');
  const config = {
    id: 'arc_1',
    organization_id: org,
    messaging_profile_id: p.id,
    op: 'stop' as const,
    keywords: ['STOP'],
    country_code: '*',
    resp_text: null,
    created_at: iso(1),
    updated_at: iso(1),
  };
  await store.autorespConfigs.insert(config);
  await store.autorespConfigs.get(org, p.id, 'arc_1');
  for (const filter of combinations({
    countryCode: 'US',
    createdGte: iso(0),
    createdLte: iso(5),
    updatedGte: iso(0),
    updatedLte: iso(5),
  })) {
    await store.autorespConfigs.listForProfile(org, p.id, filter);
  }
  await store.autorespConfigs.countForProfile(p.id);
  await store.autorespConfigs.update({ ...config, resp_text: 'Bye' }, iso(2));
  await store.autorespConfigs.delete(org, p.id, 'arc_1');
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
      const prof = `prof_p${o}`;
      await tx.profiles.create(profile(org, prof));
      for (let k = 0; k < 3; k++) {
        await tx.apiKeys.create({
          id: `key_p${o}_${k}`,
          organization_id: org,
          key_hash: `hash_p${o}_${k}`,
          prefix: 'KEYp',
          created_at: iso(k),
          revoked_at: k === 0 ? iso(5) : null,
        });
      }
      await tx.organizationSigningKeys.insertFirst({
        organization_id: org,
        private_key_pem: 'x',
        public_key: 'y',
        created_at: iso(0),
        active_from: iso(0),
      });
      for (let n = 0; n < 5; n++) {
        await tx.numbers.add(phoneNumber(org, `num_p${o}_${n}`, `+1555100${o}${n}00`, prof));
      }
      for (let m = 0; m < 40; m++) {
        const id = `msg_p${o}_${m}`;
        const sent = {
          ...message(org, prof, id),
          from_number: `+1555100${o}${m % 5}00`,
          received_at: iso(m * 60_000),
        };
        await tx.messages.insert(
          sent,
          [0, 1, 2].map((i) => recipient(id, `rcp_p${o}_${m}_${i}`, i, `+1555000${o}${m}${i}`)),
        );
        await tx.idempotency.claim(
          {
            organization_id: org,
            idempotency_key: `idem_p${o}_${m}`,
            request_hash: 'rh',
            message_id: id,
            response: '{}',
            created_at: iso(m * 60_000),
          },
          iso(0),
        );
        await tx.inboundReceipts.insert(receipt(`inr_p${o}_${m}`, m * 60_000));
        for (const e of [0, 1]) {
          await tx.webhooks.insertEvent(webhookEvent(org, id, `whe_p${o}_${m}_${e}`, m * 60_000 + e));
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
        const known = FULL_SCANS_ALLOWED.includes(sql);
        if (plan.fullScans.length > 0 && !known) scans.push(sql);
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
