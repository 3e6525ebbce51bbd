import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import type { TestGateway } from '../support/gateway.ts';
import { api, startPipelineGateway } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Issue 10's conversation, end to end with the official SDK and a real webhook receiver: a group MMS
 * to three simulated handsets; the reply-all handset answers the group (message.received with cc =
 * the other members); the STOP handset opts out (listed by messagingOptouts.list, the next send
 * including it is refused with 409 / 40300 and its pointer); START from that handset removes it.
 */

const REPLY_ALL = '+13125550107';
const REPLY_STOP = '+13125550108';
const QUIET = '+13125557301';

interface Payload {
  id: string;
  from: { phone_number: string };
  to: Array<{ phone_number: string }>;
  cc: Array<{ phone_number: string }>;
  text: string | null;
  autoresponse_type?: string;
}
interface Event {
  data: { event_type: string; payload: Payload };
}

let gw: TestGateway;
let receiver: WebhookReceiver;
let client: Telnyx;
let publicKey: string;

before(async () => {
  gw = await startPipelineGateway({ env: { SIMULATOR_REPLY_DELAY_MS: '200' } });
  receiver = await startWebhookReceiver({ keepRequests: true });
  const profile = await gw.store.profiles.get(gw.organizationId, gw.profileId);
  await gw.store.profiles.update(
    gw.organizationId,
    gw.profileId,
    { ...profile!.data, webhook_url: receiver.url },
    new Date().toISOString(),
  );
  client = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0, timeout: 30_000 });
  publicKey = (await api<{ data: { public_key: string } }>(gw, 'GET', '/v2/public_key')).body.data.public_key;
});

after(async () => {
  await gw?.close();
  await receiver?.close();
});

/** Signed message.received events from `from` with `text`, verified with the SDK. */
function received(from: string, text: string): Promise<Payload> {
  return waitFor(
    async () => {
      for (const r of receiver.received) {
        if (!r.rawBody.includes('"message.received"')) continue;
        const event = (await client.webhooks.unwrap(r.rawBody, {
          headers: r.headers,
          key: publicKey,
        })) as unknown as Event;
        const p = event.data.payload;
        if (p.from.phone_number === from && p.text === text) return p;
      }
      return null;
    },
    { description: `message.received "${text}" from ${from}` },
  );
}

const numbers = (list: Array<{ phone_number: string }>) => list.map((x) => x.phone_number).sort();

async function optOuts(): Promise<string[]> {
  const found: string[] = [];
  for await (const o of client.messagingOptouts.list({
    filter: { messaging_profile_id: gw.profileId },
  })) {
    found.push(String(o.to));
  }
  return found;
}

test('a group conversation: reply-all with cc, STOP listed and enforced with 40300, START lifts it', async () => {
  const ours = gw.numbers[0]!;
  await client.messages.sendGroupMms({ from: ours, to: [REPLY_ALL, REPLY_STOP, QUIET], text: 'Game night?' });

  const replyAll = await received(REPLY_ALL, `Reply all from ${REPLY_ALL}`);
  assert.deepEqual(numbers(replyAll.to), [ours]);
  assert.deepEqual(numbers(replyAll.cc), [REPLY_STOP, QUIET].sort(), 'cc = the other members');
  // The messages list shows the reply as GET /v2/messages/{id} does, with its cc.
  const inbound = await api<{ data: Payload[] }>(gw, 'GET', '/v2/messages?filter[direction]=inbound');
  const listed = inbound.body.data.find((m) => m.id === replyAll.id);
  assert.deepEqual(numbers(listed?.cc ?? []), [REPLY_STOP, QUIET].sort(), 'the list shows the cc');

  const stop = await received(REPLY_STOP, 'STOP');
  assert.equal(stop.autoresponse_type, 'STOP');
  assert.deepEqual(await waitFor(async () => ((await optOuts()).includes(REPLY_STOP) ? optOuts() : null)), [
    REPLY_STOP,
  ]);

  // The next send including the opted-out number: 409 / 40300 pointing at it, nothing stored.
  const before = (await api<{ data: unknown[] }>(gw, 'GET', '/v2/messages?filter[direction]=outbound')).body
    .data.length;
  const refused = await client.messages
    .sendGroupMms({ from: ours, to: [QUIET, REPLY_STOP], text: 'Still on?' })
    .then(
      () => assert.fail('a send to an opted-out number was accepted'),
      (err: unknown) => err as { status: number; error: { errors: Array<Record<string, unknown>> } },
    );
  assert.equal(refused.status, 409);
  const [error] = refused.error.errors;
  assert.equal(error!.code, '40300');
  assert.equal(error!.title, 'Blocked due to STOP message');
  assert.deepEqual(error!.source, { pointer: '/to/1' });
  assert.match(
    String(error!.detail),
    new RegExp(`${ours.replace('+', '\\+')}.*${REPLY_STOP.replace('+', '\\+')}`),
  );
  const after = (await api<{ data: unknown[] }>(gw, 'GET', '/v2/messages?filter[direction]=outbound')).body
    .data.length;
  assert.equal(after, before, 'nothing stored');

  // START from the handset lifts the block: the list is empty and the send goes through.
  const start = await api(gw, 'POST', '/v2/simulator/messages', {
    from: REPLY_STOP,
    to: ours,
    text: 'START',
  });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  assert.equal((await received(REPLY_STOP, 'START')).autoresponse_type, 'START');
  assert.deepEqual(await optOuts(), []);
  const again = await client.messages.sendGroupMms({
    from: ours,
    to: [QUIET, REPLY_STOP],
    text: 'Still on?',
  });
  assert.ok(again.data?.id);
});
