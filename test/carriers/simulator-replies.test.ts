import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SIMULATOR_REPLY_QUEUE, simulatorReplyHandler } from '../../src/carriers/simulator-replies.ts';
import { type ReceivedMessage, receiveMessage } from '../../src/inbound/receive-message.ts';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import type { JobControl } from '../../src/queue/job-handler.ts';
import type { JobRecord, RecipientRecord } from '../../src/store/records.ts';
import type { Store } from '../../src/store/store.ts';
import { testAutoReplyDeps } from '../support/auto-reply-deps.ts';
import { storesUnderTest } from '../support/databases.ts';
import { message, phoneNumber, profile, seedOrganization } from '../support/store-fixtures.ts';

/**
 * The scripted handsets' reply jobs against a real store: what they send through the intake, and the
 * STOP handset not saying STOP again (a STOP confirmation sent to it must not start a loop).
 */

const OURS = '+13125550001';
const STOPPER = '+13125550108';
const ALL = '+13125550107';
const OTHER = '+13125557101';

function control(payload: Record<string, unknown>, store: Store): JobControl & { completed: number } {
  const job: JobRecord = {
    id: 1,
    queue: SIMULATOR_REPLY_QUEUE,
    payload,
    run_at: 0,
    attempts: 1,
    retries: 0,
    crashes: 0,
    locked_by: 'test',
    locked_until: null,
    last_error: null,
    created_at: 0,
    failed_at: null,
    fair_key: null,
  };
  const c = {
    job,
    signal: new AbortController().signal,
    completed: 0,
    async complete(effects?: Parameters<JobControl['complete']>[0]) {
      if (effects) await store.transaction(effects);
      c.completed++;
    },
    lease: { workerId: 'test', ms: 60_000 },
    onAbort: () => () => {},
    throwIfAborted: () => {},
    async retryAt() {
      throw new Error('not expected');
    },
    async fail() {
      throw new Error('not expected');
    },
    async waitUntil() {
      throw new Error('not expected');
    },
  };
  return c;
}

for (const { name, open } of storesUnderTest()) {
  describe(`scripted replies (${name})`, () => {
    const media = fs.mkdtempSync(path.join(os.tmpdir(), 'replies-media-'));
    after(() => fs.rmSync(media, { recursive: true, force: true }));

    async function setup() {
      const store = await open();
      await seedOrganization(store, 'org-1');
      await store.profiles.create(profile('org-1', 'p-1'));
      await store.numbers.add(phoneNumber('org-1', 'n-1', OURS, 'p-1'));
      const sent: ReceivedMessage[] = [];
      const handler = simulatorReplyHandler({
        store,
        receive: (m) => {
          sent.push(m);
          return receiveMessage(
            {
              store,
              media: createFileMediaStore(media),
              mediaUrl: (h) => `/media/${h}`,
              replies: testAutoReplyDeps,
            },
            m,
          );
        },
        onWork: () => {},
      });
      let n = 0;
      const sendGroup = async (to: string[]) => {
        const id = `00000000-0000-7000-8000-00000000000${++n}`;
        const recipients: RecipientRecord[] = to.map((phone, position) => ({
          id: `00000000-0000-7000-9000-0000000000${n}${position}`,
          message_id: id,
          position,
          phone_number: phone,
          carrier: null,
          line_type: null,
          status: 'delivered',
          carrier_message_id: `carrier-${n}-${position}`,
          cost: null,
          errors: [],
          sent_at: null,
          completed_at: null,
          updated_at: new Date().toISOString(),
        }));
        await store.messages.insert({ ...message('org-1', 'p-1', id), from_number: OURS }, recipients);
        return id;
      };
      return { store, handler, sent, sendGroup };
    }

    it('reply-all goes to the sender with cc = the other recipients; STOP and media to the sender alone', async () => {
      const { store, handler, sent, sendGroup } = await setup();
      try {
        const id = await sendGroup([ALL, STOPPER, OTHER]);
        for (const [kind, from] of [
          ['group', ALL],
          ['stop', STOPPER],
          ['media', '+13125550109'],
        ] as const) {
          const c = control({ kind, from, messageId: id, carrierMessageId: `c-${kind}` }, store);
          await handler.run(c);
          assert.equal(c.completed, 1);
        }
        assert.deepEqual(
          sent.map((m) => ({ from: m.from, to: m.to, cc: m.cc, text: m.text, media: m.media.length })),
          [
            { from: ALL, to: [OURS], cc: [STOPPER, OTHER], text: `Reply all from ${ALL}`, media: 0 },
            { from: STOPPER, to: [OURS], cc: [], text: 'STOP', media: 0 },
            { from: '+13125550109', to: [OURS], cc: [], text: 'Picture from +13125550109', media: 1 },
          ],
        );
        const inbound = await store.messages.listForOrganization('org-1', { direction: 'inbound' }, 10);
        assert.equal(inbound.length, 3);
      } finally {
        await store.close();
      }
    });

    it('the STOP handset says STOP once to each of our numbers, even after a START in its name', async () => {
      const { store, handler, sent, sendGroup } = await setup();
      try {
        const stop = async () => {
          const id = await sendGroup([STOPPER]);
          await handler.run(
            control({ kind: 'stop', from: STOPPER, messageId: id, carrierMessageId: id }, store),
          );
        };
        await stop();
        await stop(); // e.g. the STOP confirmation: no second STOP
        assert.equal(sent.length, 1);
        // It opts back in (START); the START's confirmation, or any later message, gets no STOP.
        const later = new Date(Date.now() + 1000);
        await receiveMessage(
          {
            store,
            media: createFileMediaStore(media),
            mediaUrl: (h) => `/media/${h}`,
            now: () => later,
            replies: testAutoReplyDeps,
          },
          { ...sent[0]!, text: 'START' },
        );
        await stop();
        assert.equal(sent.length, 1);
      } finally {
        await store.close();
      }
    });
  });
}
