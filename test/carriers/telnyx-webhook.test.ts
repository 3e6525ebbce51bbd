import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  handleUpstreamWebhook,
  InboundMediaError,
  type UpstreamWebhookDeps,
} from '../../src/carriers/telnyx/index.ts';
import { receiveMessage } from '../../src/inbound/receive-message.ts';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import { CARRIER_REPORT_QUEUE } from '../../src/pipeline/record-delivery-report.ts';
import type { ConnectorRecord } from '../../src/store/records.ts';
import type { Store } from '../../src/store/store.ts';
import { createSigner, generateSigningKeyPair } from '../../src/webhooks/signing.ts';
import { testAutoReplyDeps } from '../support/auto-reply-deps.ts';
import { storesUnderTest } from '../support/databases.ts';
import { makeTempDir } from '../support/gateway.ts';
import { phoneNumber, profile, seedOrganization } from '../support/store-fixtures.ts';

/**
 * The upstream webhook receiver's domain logic on each store: verified before anything is read,
 * delivery updates recorded as reports with their event id in one transaction, replays refused.
 */

const upstream = generateSigningKeyPair();
const sign = createSigner(upstream.privateKeyPem);
const forger = createSigner(generateSigningKeyPair().privateKeyPem);
const seconds = () => Math.floor(Date.now() / 1000);

const CONNECTOR: ConnectorRecord = {
  name: 'up',
  type: 'telnyx',
  settings: { apiKey: 'k', publicKey: upstream.publicKey, baseUrl: 'https://api.telnyx.com/v2' },
  created_at: '',
  updated_at: '',
};

function statusEvent(
  id: string,
  type: 'message.sent' | 'message.finalized',
  to: Array<[string, string]>,
  errors: unknown[] = [],
): string {
  return JSON.stringify({
    data: {
      event_type: type,
      id,
      occurred_at: '2026-12-02T09:00:00.000Z',
      record_type: 'event',
      payload: {
        id: 'recipient-level-id',
        group_message_id: 'upstream-group',
        to: to.map(([phone_number, status]) => ({ phone_number, status })),
        errors,
      },
    },
  });
}

for (const { name, open } of storesUnderTest()) {
  describe(`upstream webhooks (${name})`, () => {
    async function withDeps(
      fn: (deps: UpstreamWebhookDeps, store: Store) => Promise<void>,
      expectWork = true,
    ) {
      const store = await open();
      const dir = makeTempDir();
      let woken = 0;
      const media = createFileMediaStore(path.join(dir, 'media'));
      const deps: UpstreamWebhookDeps = {
        store,
        receive: (message, inTransaction) =>
          receiveMessage(
            {
              store,
              media,
              mediaUrl: (s) => `https://gw.test/media/${s}`,
              replies: testAutoReplyDeps,
            },
            message,
            inTransaction,
          ),
        fetchMedia: async () => [],
        onWork: () => {
          woken++;
        },
        log: { warn() {}, info() {} },
      };
      try {
        await fn(deps, store);
        assert.equal(woken > 0, expectWork, 'the workers are woken exactly when work was applied');
      } finally {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    const post = (deps: UpstreamWebhookDeps, body: string, headers: object, connector = CONNECTOR) => {
      const h = headers as Record<string, string | undefined>;
      return handleUpstreamWebhook(deps, connector, {
        rawBody: body,
        signature: h['telnyx-signature-ed25519'],
        timestamp: h['telnyx-timestamp'],
      });
    };

    it('applies a finalized event as reports (code kept) once; forged, stale, unsigned and replayed ones change nothing', async () => {
      await withDeps(async (deps, store) => {
        const errors = [{ code: '40008', title: 'Undeliverable', detail: 'The carrier did not accept it.' }];
        const e1 = statusEvent('evt-1', 'message.finalized', [['+13125550101', 'delivery_failed']], errors);
        const ok = await post(deps, e1, sign(e1, seconds()));
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        const [job] = await store.jobs.findByPayload(
          CARRIER_REPORT_QUEUE,
          'carrierMessageId',
          'upstream-group',
        );
        assert.deepEqual(job?.payload, {
          carrierMessageId: 'upstream-group',
          phoneNumber: '+13125550101',
          status: 'delivery_failed',
          error: errors[0],
          occurredAt: '2026-12-02T09:00:00.000Z',
        });

        const state = async () => [
          await store.jobs.count(CARRIER_REPORT_QUEUE),
          await store.upstreamWebhookEvents.count('up'),
        ];
        const before = await state();
        const e2 = statusEvent('evt-2', 'message.finalized', [['+13125550100', 'delivered']]);
        const changedE1 = statusEvent('evt-1', 'message.finalized', [['+13125550100', 'delivered']]);
        const refusals: Array<[string, string, object, number]> = [
          ['replayed', e1, sign(e1, seconds()), 409],
          ['replayed with another body', changedE1, sign(changedE1, seconds()), 409],
          ['unsigned', e2, {}, 401],
          ['forged', e2, forger(e2, seconds()), 401],
          ['tampered', e2.replace('delivered', 'delivery_failed'), sign(e2, seconds()), 401],
          ['stale', e2, sign(e2, seconds() - 330), 401],
          ['future', e2, sign(e2, seconds() + 330), 401],
          ['bad timestamp', e2, { ...sign(e2, seconds()), 'telnyx-timestamp': '1e9' }, 401],
        ];
        for (const [what, body, headers, status] of refusals) {
          const res = await post(deps, body, headers);
          assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
          assert.deepEqual(await state(), before, `${what} changed nothing`);
        }
      });
    });

    it('message.sent gives a sent report per recipient; the same event posted twice at once is applied once', async () => {
      await withDeps(async (deps, store) => {
        const e = statusEvent('evt-sent', 'message.sent', [
          ['+13125550100', 'sent'],
          ['+13125550101', 'sent'],
        ]);
        const answers = await Promise.all([
          post(deps, e, sign(e, seconds())),
          post(deps, e, sign(e, seconds())),
        ]);
        assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
        const jobs = await store.jobs.findByPayload(
          CARRIER_REPORT_QUEUE,
          'carrierMessageId',
          'upstream-group',
        );
        assert.deepEqual(jobs.map((j) => [j.payload.phoneNumber, j.payload.status]).sort(), [
          ['+13125550100', 'sent'],
          ['+13125550101', 'sent'],
        ]);
      });
    });

    it('message.received goes through the intake once; a replay or unfetchable media store nothing', async () => {
      await withDeps(async (deps, store) => {
        await seedOrganization(store, 'org_in');
        await store.profiles.create(profile('org_in', 'prof_in'));
        await store.numbers.add(phoneNumber('org_in', 'num_in', '+13125550777', 'prof_in'));
        const picture = Buffer.from('not really a png');
        let mediaDown = true;
        deps.fetchMedia = async (list) => {
          if (mediaDown) throw new InboundMediaError('media down');
          assert.deepEqual(list, [{ url: 'https://up.example/m/1', contentType: 'image/png', sha256: null }]);
          return [{ contentType: 'image/png', bytes: picture }];
        };
        const body = JSON.stringify({
          data: {
            id: 'evt-in',
            event_type: 'message.received',
            payload: {
              id: 'up-in-1',
              from: { phone_number: '+13125556666' },
              to: [{ phone_number: '+13125550777' }],
              cc: ['+13125558888', { phone_number: '+13125550777' }],
              text: 'Hi all',
              media: [{ url: 'https://up.example/m/1', content_type: 'image/png' }],
            },
          },
        });
        const receipts = async () => (await store.inboundReceipts.list(10)).length;
        const down = await post(deps, body, sign(body, seconds()));
        assert.equal(down.status, 503);
        assert.equal(await receipts(), 0);
        assert.equal(
          await store.upstreamWebhookEvents.count('up'),
          0,
          'not recorded: the upstream sends it again',
        );

        mediaDown = false;
        const ok = await post(deps, body, sign(body, seconds()));
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        const [receipt] = await store.inboundReceipts.list(10);
        assert.equal(receipt?.carrier_message_id, 'up-in-1');
        const inbound = await store.messages.get(receipt!.message_ids[0]!);
        assert.equal(inbound?.message.direction, 'inbound');
        assert.deepEqual(inbound?.message.cc, ['+13125558888']);
        assert.equal(inbound?.message.media[0]?.size, picture.length);
        const events = await store.webhooks.listEventsForMessage(inbound!.message.id);
        assert.deepEqual(
          events.map((e) => e.event_type),
          ['message.received'],
        );

        const replay = await post(deps, body, sign(body, seconds()));
        assert.equal(replay.status, 409);
        assert.equal(await receipts(), 1);
      });
    });

    it('bad bodies are 400, unknown event types are acknowledged and ignored, other connectors 404', async () => {
      await withDeps(async (deps, store) => {
        const bodies = [
          'not json',
          '{}',
          statusEvent('evt-q', 'message.finalized', [['+13125550100', 'queued']]),
          JSON.stringify({ data: { id: 'x', event_type: 'message.sent', payload: { id: 'y', to: [] } } }),
          JSON.stringify({ data: { id: 'r', event_type: 'message.received', payload: { from: 5 } } }),
        ];
        for (const body of bodies) {
          const res = await post(deps, body, sign(body, seconds()));
          assert.equal(res.status, 400, `${body}: ${JSON.stringify(res.body)}`);
        }
        const other = JSON.stringify({ data: { id: 'o', event_type: 'call.initiated', payload: {} } });
        assert.equal((await post(deps, other, sign(other, seconds()))).status, 200);
        assert.equal(await store.upstreamWebhookEvents.count('up'), 0);
        assert.equal(await store.jobs.count(CARRIER_REPORT_QUEUE), 0);
        const sim = { ...CONNECTOR, type: 'simulator' };
        assert.equal((await post(deps, other, sign(other, seconds()), sim)).status, 404);
        const none = await handleUpstreamWebhook(deps, undefined, {
          rawBody: other,
          signature: undefined,
          timestamp: undefined,
        });
        assert.equal(none.status, 404);
      }, false);
    });
  });
}
