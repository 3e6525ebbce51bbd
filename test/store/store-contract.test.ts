import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadMigrations } from '../../src/store/migrations/load-migrations.ts';
import { openPostgres } from '../../src/store/postgres/postgres-driver.ts';
import { LeaseLostError } from '../../src/store/sql/jobs.ts';
import { createStore, type Store } from '../../src/store/store.ts';
import { createTestDatabase, dropTestDatabase, storesUnderTest } from '../support/databases.ts';
import {
  iso,
  message,
  phoneNumber,
  profile,
  recipient,
  seedOrganization,
  webhookEvent,
} from '../support/store-fixtures.ts';

const LEASE_MS = 30_000;
const T0 = 1_700_000_000_000;

for (const { name, open } of storesUnderTest()) {
  // A fresh, migrated store for every test, deleted afterwards.
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`store contract (${name})`, () => {
    describe('organizations and API keys', () => {
      test(
        'creates, reads and counts organizations',
        withStore(async (store) => {
          const org = await seedOrganization(store, 'org_a');
          assert.deepEqual(await store.organizations.get('org_a'), org);
          assert.equal(await store.organizations.get('org_missing'), undefined);
          await seedOrganization(store, 'org_b');
          assert.equal(await store.organizations.count(), 2);
          await assert.rejects(store.organizations.create(org));
        }),
      );

      test(
        'findActiveByHash finds only unrevoked keys',
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          const active = {
            id: 'key_1',
            organization_id: 'org_a',
            key_hash: 'h1',
            prefix: 'KEYabcdef',
            created_at: iso(1),
            revoked_at: null,
          };
          const revoked = { ...active, id: 'key_2', key_hash: 'h2', revoked_at: iso(2) };
          await store.apiKeys.create(active);
          await store.apiKeys.create(revoked);
          assert.deepEqual(await store.apiKeys.findActiveByHash('h1'), { ...active, last_used_at: null });
          assert.equal(await store.apiKeys.findActiveByHash('h2'), undefined);
          assert.equal(await store.apiKeys.findActiveByHash('h3'), undefined);
          await assert.rejects(store.apiKeys.create({ ...active, id: 'key_3' }), 'a key hash is unique');
          await assert.rejects(
            store.apiKeys.create({ ...active, id: 'key_4', key_hash: 'h4', organization_id: 'nope' }),
          );
        }),
      );
    });

    describe('messaging profiles', () => {
      test(
        'round-trips a profile document and scopes reads to its organization',
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          await seedOrganization(store, 'org_b');
          const p = profile('org_a', 'mp_1');
          await store.profiles.create(p);
          assert.deepEqual(await store.profiles.get('org_a', 'mp_1'), p);
          assert.equal(await store.profiles.get('org_b', 'mp_1'), undefined);
          assert.equal(await store.profiles.get('org_a', 'mp_missing'), undefined);
        }),
      );

      test(
        'lists a page at a time in creation order with the organization total',
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          await seedOrganization(store, 'org_b');
          for (const [id, at] of [
            ['mp_3', 3],
            ['mp_1', 1],
            ['mp_2', 2],
          ] as const) {
            await store.profiles.create(profile('org_a', id, at));
          }
          await store.profiles.create(profile('org_b', 'mp_other', 0));

          const first = await store.profiles.list('org_a', { number: 1, size: 2 });
          assert.deepEqual(
            first.items.map((p) => p.id),
            ['mp_1', 'mp_2'],
          );
          assert.equal(first.total, 3);
          const second = await store.profiles.list('org_a', { number: 2, size: 2 });
          assert.deepEqual(
            second.items.map((p) => p.id),
            ['mp_3'],
          );
          assert.equal(second.total, 3);
          const other = await store.profiles.list('org_b', { number: 1, size: 20 });
          assert.deepEqual(
            other.items.map((p) => p.id),
            ['mp_other'],
          );
          assert.equal(other.total, 1);
        }),
      );

      test(
        'updates and deletes only within the organization',
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          await seedOrganization(store, 'org_b');
          const p = profile('org_a', 'mp_1');
          await store.profiles.create(p);
          await store.numbers.add(phoneNumber('org_a', 'pn_1', '+15550000001', 'mp_1'));
          const data = { ...p.data, name: 'Renamed', enabled: false };

          assert.equal(await store.profiles.update('org_b', 'mp_1', data, iso(9)), false);
          assert.deepEqual(await store.profiles.get('org_a', 'mp_1'), p);
          assert.equal(await store.profiles.update('org_a', 'mp_1', data, iso(9)), true);
          assert.deepEqual(await store.profiles.get('org_a', 'mp_1'), { ...p, data, updated_at: iso(9) });

          assert.equal(await store.profiles.delete('org_b', 'mp_1'), false);
          assert.notEqual(await store.profiles.get('org_a', 'mp_1'), undefined);
          assert.equal(await store.profiles.delete('org_a', 'mp_1'), true);
          assert.equal(await store.profiles.get('org_a', 'mp_1'), undefined);
          assert.equal((await store.numbers.findByIdOrNumber('org_a', 'pn_1'))?.messaging_profile_id, null);
          assert.equal(await store.profiles.delete('org_a', 'mp_1'), false);
        }),
      );

      test(
        "deleting another organization's profile leaves that organization's numbers attached",
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          await seedOrganization(store, 'org_b');
          await store.profiles.create(profile('org_a', 'mp_1'));
          await store.numbers.add(phoneNumber('org_a', 'pn_1', '+15550000001', 'mp_1'));
          assert.equal(await store.profiles.delete('org_b', 'mp_1'), false);
          assert.equal((await store.numbers.findByIdOrNumber('org_a', 'pn_1'))?.messaging_profile_id, 'mp_1');
        }),
      );
    });

    describe('phone numbers', () => {
      test(
        'adds a number once, across all organizations',
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          await seedOrganization(store, 'org_b');
          const n = phoneNumber('org_a', 'pn_1', '+15550000001', null);
          assert.equal(await store.numbers.add(n), true);
          assert.equal(await store.numbers.add({ ...n, id: 'pn_2' }), false);
          assert.equal(await store.numbers.add({ ...n, id: 'pn_3', organization_id: 'org_b' }), false);
          assert.deepEqual(await store.numbers.findByIdOrNumber('org_a', 'pn_1'), n);
          assert.deepEqual(await store.numbers.findByIdOrNumber('org_a', '+15550000001'), n);
          assert.equal(await store.numbers.findByIdOrNumber('org_b', 'pn_1'), undefined);
          assert.equal(await store.numbers.findByIdOrNumber('org_a', 'pn_2'), undefined);
        }),
      );

      test(
        'updates profile and tags within the organization and lists by profile',
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          await seedOrganization(store, 'org_b');
          await store.profiles.create(profile('org_a', 'mp_1'));
          await store.numbers.add(phoneNumber('org_a', 'pn_2', '+15550000002', 'mp_1'));
          await store.numbers.add(phoneNumber('org_a', 'pn_1', '+15550000001', 'mp_1'));
          await store.numbers.add(phoneNumber('org_a', 'pn_3', '+15550000003', null));

          await store.numbers.update('org_b', 'pn_3', { messaging_profile_id: 'mp_1', tags: [] }, iso(5));
          assert.equal((await store.numbers.findByIdOrNumber('org_a', 'pn_3'))?.messaging_profile_id, null);
          await store.numbers.update('org_a', 'pn_3', { messaging_profile_id: 'mp_1', tags: ['x'] }, iso(5));
          const updated = await store.numbers.findByIdOrNumber('org_a', 'pn_3');
          assert.equal(updated?.messaging_profile_id, 'mp_1');
          assert.deepEqual(updated?.tags, ['x']);
          assert.equal(updated?.updated_at, iso(5));

          const first = await store.numbers.listByProfile('org_a', 'mp_1', { number: 1, size: 2 });
          assert.deepEqual(
            first.items.map((n) => n.phone_number),
            ['+15550000001', '+15550000002'],
          );
          assert.equal(first.total, 3);
          const second = await store.numbers.listByProfile('org_a', 'mp_1', { number: 2, size: 2 });
          assert.deepEqual(
            second.items.map((n) => n.id),
            ['pn_3'],
          );
          const other = await store.numbers.listByProfile('org_b', 'mp_1', { number: 1, size: 2 });
          assert.deepEqual(other, { items: [], total: 0 });
        }),
      );
    });

    describe('messages', () => {
      const seedMessage = async (store: Store) => {
        await seedOrganization(store, 'org_a');
        await seedOrganization(store, 'org_b');
        const m = message('org_a', 'mp_1', 'msg_1');
        const recipients = [
          recipient('msg_1', 'rcp_1', 0, '+15550002001'),
          recipient('msg_1', 'rcp_2', 1, '+15550002002'),
        ];
        await store.messages.insert(m, recipients);
        return { m, recipients };
      };

      test(
        'reads a group message back only for its organization',
        withStore(async (store) => {
          const seeded = await seedMessage(store);
          const recipients = seeded.recipients;
          // Inserted without a direction: it reads back as an outbound message with no cc, and no
          // connector has taken it yet.
          const m = { ...seeded.m, direction: 'outbound', cc: [], connector: null };
          assert.deepEqual(await store.messages.getForOrganization('org_a', 'msg_1'), {
            message: m,
            recipients,
          });
          assert.deepEqual(await store.messages.get('msg_1'), { message: m, recipients });
          assert.equal(await store.messages.getForOrganization('org_b', 'msg_1'), undefined);
          assert.equal(await store.messages.getForOrganization('org_a', 'msg_missing'), undefined);

          assert.deepEqual(await store.messages.getRecipientForOrganization('org_a', 'rcp_2'), {
            message: m,
            recipient: recipients[1],
          });
          assert.equal(await store.messages.getRecipientForOrganization('org_b', 'rcp_2'), undefined);
          await store.breakers.recordMessageConnector('msg_1', 'carrier-b');
          assert.equal((await store.messages.get('msg_1'))?.message.connector, 'carrier-b');
          assert.equal(await store.messages.getRecipientForOrganization('org_a', 'rcp_missing'), undefined);

          const media = [
            { url: 'https://cdn.example.com/x.png', content_type: 'image/png', sha256: 'ab', size: 3 },
          ];
          await store.messages.updateMedia('msg_1', media);
          assert.deepEqual((await store.messages.get('msg_1'))?.message.media, media);
        }),
      );

      test(
        'moves a recipient only from the allowed statuses',
        withStore(async (store) => {
          const { recipients } = await seedMessage(store);
          const tr = store.messages.transitionRecipient;
          assert.equal(await tr('rcp_1', ['queued'], { status: 'sending' }, iso(200)), true);
          assert.equal(await tr('rcp_1', ['queued'], { status: 'sent' }, iso(201)), false);
          assert.equal(
            await tr(
              'rcp_1',
              ['sending'],
              { status: 'sent', carrier_message_id: 'car_1', sent_at: iso(202) },
              iso(202),
            ),
            true,
          );
          const errors = [{ code: '40008', title: 'Undeliverable', detail: 'handset off' }];
          assert.equal(
            await tr(
              'rcp_1',
              ['sent'],
              { status: 'delivery_failed', errors, completed_at: iso(203) },
              iso(203),
            ),
            true,
          );
          assert.equal(
            await tr('rcp_1', ['queued', 'sending', 'sent'], { status: 'delivered' }, iso(204)),
            false,
          );
          assert.equal(await tr('rcp_missing', ['queued'], { status: 'sending' }, iso(204)), false);

          const expected = {
            ...recipients[0]!,
            status: 'delivery_failed' as const,
            carrier_message_id: 'car_1',
            errors,
            sent_at: iso(202),
            completed_at: iso(203),
            updated_at: iso(203),
          };
          const read = await store.messages.get('msg_1');
          assert.deepEqual(read?.recipients, [expected, recipients[1]]);
          assert.deepEqual(await store.messages.findRecipientByCarrierId('car_1'), expected);
          assert.equal(await store.messages.findRecipientByCarrierId('car_missing'), undefined);

          // MM7 gives one MessageID to every recipient of a group: unique per (id, number) only.
          const change = { status: 'sent' as const, carrier_message_id: 'car_1', sent_at: iso(205) };
          assert.equal(await tr('rcp_2', ['queued'], change, iso(205)), true);
          const second = await store.messages.findRecipientByCarrierId('car_1', '+15550002002');
          assert.equal(second?.id, 'rcp_2');
          assert.equal((await store.messages.findRecipientByCarrierId('car_1', '+15550002001'))?.id, 'rcp_1');
        }),
      );
    });

    describe('transactions', () => {
      test(
        'commits every write together and returns the result',
        withStore(async (store) => {
          const result = await store.transaction(async (tx) => {
            await seedOrganization(tx, 'org_a');
            await tx.jobs.enqueue({ queue: 'q', payload: {} }, T0);
            return 42;
          });
          assert.equal(result, 42);
          assert.notEqual(await store.organizations.get('org_a'), undefined);
          assert.equal(await store.jobs.count(), 1);
        }),
      );

      test(
        'rolls back every write when the function throws',
        withStore(async (store) => {
          const failure = new Error('boom');
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.organizations.create({ id: 'org_a', name: 'A', created_at: iso(0) });
              await tx.jobs.enqueue({ queue: 'q', payload: { n: 1 } }, T0);
              assert.equal(await tx.organizations.count(), 1, 'the transaction sees its own writes');
              throw failure;
            }),
            (err) => err === failure,
          );
          assert.equal(await store.organizations.get('org_a'), undefined);
          assert.equal(await store.organizations.count(), 0);
          assert.equal(await store.jobs.count(), 0);
          // The store is still usable afterwards.
          await seedOrganization(store, 'org_b');
          assert.equal(await store.organizations.count(), 1);
        }),
      );
    });

    describe('jobs', () => {
      test(
        'enqueue with a unique key keeps one job per key at a time',
        withStore(async (store) => {
          await store.jobs.enqueue({ queue: 'q', payload: { n: 1 }, uniqueKey: 'k' }, T0);
          await store.jobs.enqueue({ queue: 'q', payload: { n: 2 }, uniqueKey: 'k' }, T0);
          await store.jobs.enqueue({ queue: 'q', payload: { n: 3 } }, T0);
          await store.jobs.enqueue({ queue: 'other', payload: { n: 4 } }, T0);
          assert.equal(await store.jobs.count(), 3);
          assert.equal(await store.jobs.count('q'), 2);

          const claimed = await store.jobs.claim('w1', 10, LEASE_MS, T0);
          assert.deepEqual(claimed.map((j) => j.payload.n).sort(), [1, 3, 4]);
          await store.jobs.complete(claimed.find((j) => j.payload.n === 1)!, 'w1');
          await store.jobs.enqueue({ queue: 'q', payload: { n: 5 }, uniqueKey: 'k' }, T0);
          assert.equal(await store.jobs.count('q'), 2, 'the key is free again once its job is gone');
        }),
      );

      test(
        "a claim that leaves out organizations takes the others' due jobs, keyless ones too, in run order",
        withStore(async (store) => {
          // Keys that sort around and between the left-out ones, and one that sorts differently in
          // byte order and in a language collation ('B' before 'a' in bytes).
          const keys = ['0', 'a', 'B', 'm', 'z', 'a-b'];
          let at = T0 - 100;
          for (const fairKey of [...keys, null, ...keys]) {
            await store.jobs.enqueue(
              { queue: 'q', payload: { key: fairKey }, fairKey: fairKey ?? undefined, runAt: at++ },
              T0,
            );
          }
          await store.jobs.enqueue(
            { queue: 'q', payload: { key: 'z', n: 'future' }, fairKey: 'z', runAt: T0 + 60_000 },
            T0,
          );
          await store.jobs.enqueue({ queue: 'other', payload: { key: '0' }, fairKey: '0' }, T0);
          const leftOut = ['m', 'a', 'B'];
          const byRunAt = <T extends { run_at: number }>(jobs: T[]) =>
            [...jobs].sort((x, y) => x.run_at - y.run_at);
          const claimed = await store.jobs.claim('w1', 5, LEASE_MS, T0, {
            queue: 'q',
            excludeFairKeys: leftOut,
          });
          assert.deepEqual(
            byRunAt(claimed).map((j) => j.payload.key),
            ['0', 'z', 'a-b', null, '0'],
            'the five oldest due jobs of the other keys, in run order',
          );
          const rest = await store.jobs.claim('w2', 10, LEASE_MS, T0, {
            queue: 'q',
            excludeFairKeys: leftOut,
          });
          assert.deepEqual(
            byRunAt(rest).map((j) => j.payload.key),
            ['z', 'a-b'],
            'taken jobs and jobs not yet due are not claimed again',
          );
          assert.deepEqual(
            await store.jobs.claim('w2', 10, LEASE_MS, T0, { queue: 'q', excludeFairKeys: keys }),
            [],
          );
          const leftOutJobs = await store.jobs.claim('w3', 10, LEASE_MS, T0, {
            queue: 'q',
            excludeFairKeys: ['x'],
          });
          assert.deepEqual(
            byRunAt(leftOutJobs).map((j) => j.payload.key),
            ['a', 'B', 'm', 'a', 'B', 'm'],
            'a left-out key that has no job leaves out nothing else',
          );
        }),
      );

      test(
        'claim leases due jobs in run order and counts an attempt',
        withStore(async (store) => {
          await store.jobs.enqueue({ queue: 'q', payload: { n: 'later' }, runAt: T0 + 500 }, T0);
          await store.jobs.enqueue({ queue: 'q', payload: { n: 'first' }, runAt: T0 - 10 }, T0);
          await store.jobs.enqueue({ queue: 'q', payload: { n: 'second' } }, T0);
          await store.jobs.enqueue({ queue: 'q', payload: { n: 'future' }, runAt: T0 + 60_000 }, T0);
          assert.equal(await store.jobs.nextRunAt(), T0 - 10);

          const claimed = await store.jobs.claim('w1', 2, LEASE_MS, T0 + 1_000);
          claimed.sort((a, b) => a.run_at - b.run_at);
          assert.deepEqual(
            claimed.map((j) => j.payload.n),
            ['first', 'second'],
          );
          const [job] = claimed;
          const { id, queue, payload, run_at, attempts, locked_by, locked_until, last_error, created_at } =
            job!;
          assert.deepEqual(
            { id, queue, payload, run_at, attempts, locked_by, locked_until, last_error, created_at },
            {
              id: job!.id,
              queue: 'q',
              payload: { n: 'first' },
              run_at: T0 - 10,
              attempts: 1,
              locked_by: 'w1',
              locked_until: T0 + 1_000 + LEASE_MS,
              last_error: null,
              created_at: T0,
            },
          );
          assert.equal(typeof job!.id, 'number');
          assert.deepEqual(
            (await store.jobs.claim('w2', 10, LEASE_MS, T0 + 1_000)).map((j) => j.payload.n),
            ['later'],
          );
          // Leased jobs don't count (a dead worker's are handed back by the next claim): the next is 'future'.
          assert.equal(await store.jobs.nextRunAt(), T0 + 60_000);
        }),
      );

      test(
        'a leased job goes to another claimer only after its lease expires',
        withStore(async (store) => {
          await store.jobs.enqueue({ queue: 'q', payload: {} }, T0);
          const [first] = await store.jobs.claim('w1', 10, LEASE_MS, T0);
          assert.ok(first);
          assert.deepEqual(await store.jobs.claim('w2', 10, LEASE_MS, T0 + 1), []);
          assert.deepEqual(
            await store.jobs.claim('w2', 10, LEASE_MS, T0 + LEASE_MS),
            [],
            'the lease runs to its end',
          );

          const [second] = await store.jobs.claim('w2', 10, LEASE_MS, T0 + LEASE_MS + 1);
          assert.equal(second?.id, first.id);
          assert.equal(second?.attempts, 2);
          assert.equal(second?.crashes, 1, 'a lease that ran out counts as a crash');
          assert.equal(second?.retries, 0);
          assert.equal(second?.locked_by, 'w2');

          await assert.rejects(store.jobs.complete(first, 'w1'), LeaseLostError);
          await assert.rejects(store.jobs.retry(first, 'w1', T0, 'late'), LeaseLostError);
          assert.equal(await store.jobs.count(), 1);
          await store.jobs.complete(second!, 'w2');
          assert.equal(await store.jobs.count(), 0);
          assert.equal(await store.jobs.nextRunAt(), null);
          await assert.rejects(store.jobs.complete(second!, 'w2'), LeaseLostError);
        }),
      );

      test(
        'retry releases the job, reschedules it and keeps the error',
        withStore(async (store) => {
          await store.jobs.enqueue({ queue: 'q', payload: { n: 1 } }, T0);
          const [job] = await store.jobs.claim('w1', 1, LEASE_MS, T0);
          await store.jobs.retry(job!, 'w1', T0 + 5_000, `boom ${'x'.repeat(3_000)}`, { now: T0 });
          assert.equal(await store.jobs.nextRunAt(), T0 + 5_000);
          assert.deepEqual(await store.jobs.claim('w1', 1, LEASE_MS, T0 + 4_999), []);
          const [again] = await store.jobs.claim('w2', 1, LEASE_MS, T0 + 5_000);
          assert.equal(again?.id, job!.id);
          assert.equal(again?.attempts, 2);
          assert.equal(again?.retries, 1, 'a retry counts against the handler’s own schedule');
          assert.equal(again?.crashes, 0);
          assert.equal(again?.run_at, T0 + 5_000);
          assert.equal(again?.last_error?.length, 2_000);
          assert.ok(again?.last_error?.startsWith('boom x'));
        }),
      );

      test(
        'releaseAll hands back a worker’s jobs without counting the attempt',
        withStore(async (store) => {
          await store.jobs.enqueue({ queue: 'q', payload: { n: 1 } }, T0);
          await store.jobs.enqueue({ queue: 'q', payload: { n: 2 } }, T0);
          await store.jobs.enqueue({ queue: 'q', payload: { n: 3 } }, T0);
          assert.equal((await store.jobs.claim('w1', 2, LEASE_MS, T0)).length, 2);
          assert.equal((await store.jobs.claim('w2', 1, LEASE_MS, T0)).length, 1);

          assert.equal(await store.jobs.releaseAll('w1'), 2);
          assert.equal(await store.jobs.releaseAll('w1'), 0);
          const reclaimed = await store.jobs.claim('w3', 10, LEASE_MS, T0);
          assert.equal(reclaimed.length, 2, "w2's job stays leased");
          assert.deepEqual(
            reclaimed.map((j) => j.attempts),
            [1, 1],
          );
        }),
      );

      test(
        '4 concurrent claimers over 200 jobs claim each job exactly once',
        withStore(async (store) => {
          await store.transaction(async (tx) => {
            for (let n = 0; n < 200; n++) await tx.jobs.enqueue({ queue: 'q', payload: { n } }, T0);
          });
          const claimedBy = new Map<number, string[]>();
          const worker = async (id: string) => {
            for (;;) {
              const jobs = await store.jobs.claim(id, 3, LEASE_MS, T0);
              if (jobs.length === 0) return;
              for (const job of jobs) claimedBy.set(job.id, [...(claimedBy.get(job.id) ?? []), id]);
            }
          };
          await Promise.all(['w1', 'w2', 'w3', 'w4'].map(worker));
          assert.equal(claimedBy.size, 200);
          const twice = [...claimedBy].filter(([, workers]) => workers.length > 1);
          assert.deepEqual(twice, [], 'no job was claimed twice');
          assert.equal(await store.jobs.count(), 200);
        }),
      );
    });

    describe('webhooks, simulator ledger and signing keys', () => {
      test(
        'webhook events and their attempts round-trip',
        withStore(async (store) => {
          const later = webhookEvent('org_a', 'msg_1', 'whe_2', 20);
          const earlier = webhookEvent('org_a', 'msg_1', 'whe_1', 10);
          await store.webhooks.insertEvent(later);
          await store.webhooks.insertEvent(earlier);
          await store.webhooks.insertEvent(webhookEvent('org_a', 'msg_2', 'whe_3', 5));
          assert.deepEqual(await store.webhooks.getEvent('whe_1'), earlier);
          assert.equal(await store.webhooks.getEvent('whe_missing'), undefined);
          assert.deepEqual(await store.webhooks.listEventsForMessage('msg_1'), [earlier, later]);

          const attempt = {
            event_id: 'whe_1',
            attempt: 1,
            url: 'https://hooks.example.com/message',
            outcome: 'http_error',
            status_code: 503,
            duration_ms: 120,
            response_body: 'unavailable',
            error: null,
            created_at: iso(11),
            request_headers: { 'telnyx-timestamp': '1700000000', 'telnyx-signature-ed25519': 'c2ln' },
          };
          await store.webhooks.insertAttempt(attempt);
          await store.webhooks.insertAttempt({
            ...attempt,
            attempt: 2,
            outcome: 'timeout',
            status_code: null,
            response_body: null,
            error: 'timed out',
            request_headers: null,
          });
          await store.webhooks.insertAttempt({ ...attempt, event_id: 'whe_3' });
          const attempts = await store.webhooks.listAttemptsForMessage('msg_1');
          assert.deepEqual(
            attempts.map(({ id: _, ...rest }) => rest),
            [
              attempt,
              {
                ...attempt,
                attempt: 2,
                outcome: 'timeout',
                status_code: null,
                response_body: null,
                error: 'timed out',
                request_headers: null,
              },
            ],
          );
          assert.ok(attempts.every((a) => typeof a.id === 'number'));
          assert.ok(attempts[0]!.id < attempts[1]!.id);
          await assert.rejects(store.webhooks.insertAttempt({ ...attempt, event_id: 'whe_missing' }));

          const done = {
            urls: [{ url: 'https://hooks.example.com/message', gone: true }],
            status: 'delivered' as const,
            attempts: 2,
            delivered_to: 'https://hooks.example.com/message',
            completed_at: iso(12),
          };
          await store.webhooks.updateEvent('whe_1', done);
          assert.deepEqual(await store.webhooks.getEvent('whe_1'), { ...earlier, ...done });
        }),
      );

      test(
        'the simulator ledger keeps the first carrier id and counts repeats',
        withStore(async (store) => {
          const entry = {
            idempotency_key: 'idem_1',
            recipient_id: 'rcp_1',
            phone_number: '+15550002001',
            carrier_message_id: 'car_a',
            created_at: iso(1),
          };
          assert.deepEqual(await store.simulator.record(entry), { carrierMessageId: 'car_a', timesSeen: 1 });
          assert.deepEqual(
            await store.simulator.record({ ...entry, carrier_message_id: 'car_b', created_at: iso(2) }),
            {
              carrierMessageId: 'car_a',
              timesSeen: 2,
            },
          );
          await store.simulator.record({
            ...entry,
            recipient_id: 'rcp_2',
            carrier_message_id: 'car_c',
            created_at: iso(3),
          });
          assert.deepEqual(await store.simulator.list(), [
            { ...entry, times_seen: 2 },
            {
              ...entry,
              recipient_id: 'rcp_2',
              carrier_message_id: 'car_c',
              created_at: iso(3),
              times_seen: 1,
            },
          ]);
        }),
      );

      test(
        "an organization's first signing key written wins; retired keys are not listed",
        withStore(async (store) => {
          await seedOrganization(store, 'org_a');
          assert.deepEqual(await store.organizationSigningKeys.organizationsWithoutKey(), ['org_a']);
          const first = {
            organization_id: 'org_a',
            private_key_pem: 'pem-1',
            public_key: 'pub-1',
            created_at: iso(1),
            active_from: iso(1),
          };
          await store.organizationSigningKeys.insertFirst(first);
          await store.organizationSigningKeys.insertFirst({
            ...first,
            private_key_pem: 'pem-2',
            public_key: 'pub-2',
          });
          assert.deepEqual(await store.organizationSigningKeys.listUnretired('org_a', iso(2)), [
            { id: 'org_a', ...first, retired_at: null },
          ]);
          assert.deepEqual(await store.organizationSigningKeys.organizationsWithoutKey(), []);
          await store.organizationSigningKeys.retireAll('org_a', iso(5));
          assert.equal((await store.organizationSigningKeys.listUnretired('org_a', iso(4))).length, 1);
          assert.equal((await store.organizationSigningKeys.listUnretired('org_a', iso(5))).length, 0);
        }),
      );

      test(
        'rate-limit windows count atomically, start over in a newer window and keep a newer one',
        withStore(async (store) => {
          const take = (windowStart: number, n: number) =>
            store.rateLimits.take([
              { bucket: 'key:a', windowStart, take: n },
              { bucket: 'org:a', windowStart, take: 1 },
            ]);
          assert.deepEqual(
            (await take(1000, 2)).sort((x, y) => x.bucket.localeCompare(y.bucket)),
            [
              { bucket: 'key:a', window_start: 1000, used: 2 },
              { bucket: 'org:a', window_start: 1000, used: 1 },
            ],
          );
          assert.equal((await take(1000, 3)).find((r) => r.bucket === 'key:a')!.used, 5);
          assert.deepEqual(
            (await take(2000, 1)).find((r) => r.bucket === 'key:a'),
            {
              bucket: 'key:a',
              window_start: 2000,
              used: 1,
            },
          );
          // A node whose clock is behind adds to the newer window instead of resetting it.
          assert.deepEqual(
            (await take(1000, 1)).find((r) => r.bucket === 'key:a'),
            {
              bucket: 'key:a',
              window_start: 2000,
              used: 2,
            },
          );
        }),
      );

      test(
        'daily spend is added only within the limit',
        withStore(async (store) => {
          assert.equal(await store.spend.addWithinLimit('p1', '2026-01-01', 40, 100), true);
          assert.equal(await store.spend.addWithinLimit('p1', '2026-01-01', 60, 100), true);
          assert.equal(await store.spend.addWithinLimit('p1', '2026-01-01', 1, 100), false);
          assert.equal(await store.spend.addWithinLimit('p1', '2026-01-02', 101, 100), false);
          assert.equal(await store.spend.spent('p1', '2026-01-01'), 100);
          assert.equal(await store.spend.spent('p1', '2026-01-02'), 0);
        }),
      );

      test(
        'an idempotency key is claimed once; an expired claim can be replaced',
        withStore(async (store) => {
          const record = {
            organization_id: 'org_a',
            idempotency_key: 'k',
            request_hash: 'h1',
            message_id: 'm1',
            response: '{}',
            created_at: iso(10),
          };
          assert.equal(await store.idempotency.claim(record, iso(0)), true);
          assert.equal(await store.idempotency.claim({ ...record, message_id: 'm2' }, iso(0)), false);
          assert.deepEqual(await store.idempotency.find('org_a', 'k', iso(0)), record);
          assert.equal(await store.idempotency.find('org_a', 'k', iso(10)), undefined, 'expired');
          const later = { ...record, message_id: 'm3', created_at: iso(20) };
          assert.equal(await store.idempotency.claim(later, iso(10)), true);
          assert.deepEqual(await store.idempotency.find('org_a', 'k', iso(0)), later);
        }),
      );
    });
  });
}

describe('postgres migrations', () => {
  test('two nodes migrating one fresh database at once both succeed and apply each migration once', async () => {
    const url = await createTestDatabase();
    const nodes = await Promise.all([openPostgres(url), openPostgres(url)]);
    try {
      await Promise.all([nodes[0].migrate(), nodes[1].migrate(), nodes[0].migrate(), nodes[1].migrate()]);
      const applied = await nodes[0].all<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(
        applied,
        loadMigrations('postgres').map(({ version, name }) => ({ version, name })),
      );
      await nodes[1].migrate();
      const store = createStore(nodes[1]);
      await seedOrganization(store, 'org_a');
      assert.equal(await createStore(nodes[0]).organizations.count(), 1);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await dropTestDatabase(url);
    }
  });
});
