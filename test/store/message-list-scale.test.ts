import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { uuidV7 } from '../../src/ids/uuid-v7.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { SqlExecutor } from '../../src/store/sql/driver.ts';
import { messagesRepo } from '../../src/store/sql/messages.ts';
import { webhooksRepo } from '../../src/store/sql/webhooks.ts';

/**
 * The dashboard's and the API's list queries on 100,000 messages: each page is read through an index
 * in list order (no scan of the table, no sort of it). Page times are printed, not asserted.
 */

const MESSAGES = 100_000;
let dir: string;
let db: Database.Database;
const orgA = randomUUID();
const orgB = randomUUID();

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmsgw-scale-'));
  await (await openStore({ dataDir: dir })).close(); // migrations
  db = new Database(path.join(dir, 'gateway.sqlite'));
  const insertMessage = db.prepare(
    `INSERT INTO messages (id, organization_id, messaging_profile_id, from_number, text, media, use_profile_webhooks,
       encoding, parts, num_chars, tags, received_at, valid_until)
     VALUES (?, ?, 'p', ?, ?, '[]', 1, 'GSM-7', 1, 5, '[]', ?, ?)`,
  );
  const insertRecipient = db.prepare(
    `INSERT INTO message_recipients (id, message_id, position, phone_number, status, errors, updated_at)
     VALUES (?, ?, 0, ?, ?, '[]', ?)`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO webhook_events (id, organization_id, message_id, recipient_id, event_type, occurred_at, payload, urls,
       status, created_at) VALUES (?, ?, ?, ?, 'message.sent', ?, '{}', '[]', 'delivered', ?)`,
  );
  const start = Date.parse('2026-01-01T00:00:00Z');
  db.transaction(() => {
    for (let i = 0; i < MESSAGES; i++) {
      const at = new Date(start + i * 1000).toISOString();
      const id = uuidV7(start + i * 1000);
      const org = i % 10 === 0 ? orgB : orgA;
      insertMessage.run(id, org, `+1312555${String(i % 50).padStart(4, '0')}`, `hello ${i}`, at, at);
      const rid = randomUUID();
      insertRecipient.run(
        rid,
        id,
        `+1206555${String(i % 1000).padStart(4, '0')}`,
        i % 7 === 0 ? 'delivery_failed' : 'delivered',
        at,
      );
      insertEvent.run(uuidV7(start + i * 1000), org, id, rid, at, at);
    }
  })();
  db.exec('ANALYZE');
});

after(() => {
  db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the repositories on the seeded file and records every SQL statement they issue. */
function recordingExecutor(log: Array<{ sql: string; params: unknown[] }>): SqlExecutor {
  return {
    async all<T>(sql: string, params: unknown[] = []) {
      log.push({ sql, params });
      return db.prepare(sql).all(...params) as T[];
    },
    async get<T>(sql: string, params: unknown[] = []) {
      log.push({ sql, params });
      return db.prepare(sql).get(...params) as T | undefined;
    },
    async run(sql: string, params: unknown[] = []) {
      return db.prepare(sql).run(...params).changes;
    },
  };
}

function plan(sql: string, params: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>)
    .map((r) => r.detail)
    .join(' | ');
}

test('message list pages are index reads in list order at 100,000 messages', async () => {
  const cases: Array<[string, Parameters<ReturnType<typeof messagesRepo>['listForOrganization']>[1]]> = [
    ['newest first', {}],
    ['by sender', { from: '+13125550007' }],
    ['by recipient', { to: '+12065550042' }],
    ['by status', { status: 'delivery_failed' }],
    ['by date', { receivedGte: '2026-01-01T10:00:00.000Z', receivedLte: '2026-01-01T20:00:00.000Z' }],
    ['search', { search: 'hello 4242' }],
  ];
  for (const [name, filter] of cases) {
    const log: Array<{ sql: string; params: unknown[] }> = [];
    const repo = messagesRepo(recordingExecutor(log));
    const started = performance.now();
    const first = await repo.listForOrganization(orgA, filter, 51);
    const last = first.at(-1);
    if (last)
      await repo.listForOrganization(orgA, filter, 51, {
        received_at: last.message.received_at,
        id: last.message.id,
      });
    const ms = performance.now() - started;
    const listSql = log.find((l) => l.sql.includes('FROM messages m'))!;
    const p = plan(listSql.sql, listSql.params);
    assert.match(p, /SEARCH m USING (COVERING )?INDEX messages_org_(received|from)/, `${name}: ${p}`);
    assert.doesNotMatch(p, /TEMP B-TREE/, `${name} sorts: ${p}`);
    assert.doesNotMatch(p, /SCAN m\b/, `${name} scans: ${p}`);
    assert.ok(first.every((r) => r.message.organization_id === orgA));
    console.log(`# ${name}: two pages in ${ms.toFixed(1)} ms (${first.length} rows); plan: ${p}`);
  }
});

test('webhook deliveries pages are index reads at 100,000 events', async () => {
  const log: Array<{ sql: string; params: unknown[] }> = [];
  const repo = webhooksRepo(recordingExecutor(log));
  const { items, total } = await repo.listForOrganization(orgA, {}, { number: 3, size: 20 });
  assert.equal(items.length, 20);
  assert.equal(total, MESSAGES - MESSAGES / 10);
  const p = plan(log[0]!.sql, log[0]!.params);
  assert.match(p, /USING (COVERING )?INDEX webhook_events_org/, p);
  assert.doesNotMatch(p, /TEMP B-TREE/, p);
});
