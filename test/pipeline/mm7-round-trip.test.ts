import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type MmscEmulator, startMmscEmulator } from '../../src/mmsc/emulator.ts';
import { makePng, serve, startMediaServer } from '../media/fixtures.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  envelopesFor,
  sendGroupMms,
  startPipelineGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Group MMS through a gateway whose profile is routed to an MM7 connector pointing at the MMSC
 * emulator: one SubmitReq per group (checked by the emulator against the spec), SubmitRsp, and the
 * emulator's DeliveryReportReq back to /mm7/<connector>.
 */

const VASP_USER = 'vasp';
const VASP_PASSWORD = 'vasp-pw-77';
const INBOUND_USER = 'mmsc';
const INBOUND_PASSWORD = 'mmsc-pw-88';
const IMAGE = makePng(4000, 11);
const IMAGE_SHA = createHash('sha256').update(IMAGE).digest('hex');

let gw: TestGateway;
let mmsc: MmscEmulator;
let receiver: WebhookReceiver;
let media: Awaited<ReturnType<typeof startMediaServer>>;

before(async () => {
  gw = await startPipelineGateway({ env: { CONNECTOR_CACHE_MS: '0' } });
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  media = await startMediaServer();
  media.routes.set('/photo.png', serve('image/png', IMAGE));
  mmsc = await startMmscEmulator({
    gatewayUrl: `${gw.url}/mm7/mmsc`,
    gatewayUsername: INBOUND_USER,
    gatewayPassword: INBOUND_PASSWORD,
    username: VASP_USER,
    password: VASP_PASSWORD,
    // Reports go out at once, so they race the commit of the SubmitRsp they answer.
    reportDelayMs: 0,
    reportRetryMs: 50,
    reportRetryMaxMs: 500,
  });
  const now = new Date().toISOString();
  await gw.store.connectors.add({
    name: 'mmsc',
    type: 'mm7',
    settings: {
      url: `${mmsc.url}/mm7`,
      vaspId: 'VASP1',
      vasId: 'GATEWAY',
      serviceCode: 'SC1',
      username: VASP_USER,
      password: VASP_PASSWORD,
      inboundUsername: INBOUND_USER,
      inboundPassword: INBOUND_PASSWORD,
      mm7Version: 'REL-6-MM7-1-4',
      defaultCountry: 'US',
    },
    created_at: now,
    updated_at: now,
  });
  await gw.store.routes.set({ messaging_profile_id: gw.profileId, connectors: ['mmsc'], updated_at: now });
});

after(async () => {
  await gw?.close();
  await mmsc?.close();
  await receiver?.close();
  await media?.close();
});

const send = (to: string[]) =>
  sendGroupMms(gw, {
    to,
    text: 'Dinner at 8?',
    subject: 'Plans',
    media_urls: [media.url('/photo.png')],
    webhook_url: receiver.url,
  });

async function carrierIds(groupId: string): Promise<Array<string | null>> {
  const found = await gw.store.messages.get(groupId);
  return found!.recipients.map((r) => r.carrier_message_id);
}

test('a group MMS (text + image) is one SubmitReq the emulator accepts; every recipient gets message.sent then message.finalized', async () => {
  const to = ['+13125552001', '+13125552002', '+13125552003'];
  const accepted = await send(to);
  const final = await waitForFinal(gw, accepted.id);
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    to.map((p) => [p, 'delivered']),
  );

  const mine = mmsc.submissions.filter((s) => s.to.join() === to.join());
  assert.equal(mine.length, 1, 'one SubmitReq for the whole group');
  const submit = mine[0]!;
  assert.deepEqual(submit.problems, [], 'the emulator found nothing wrong with the SubmitReq');
  assert.equal(
    submit.authorization,
    `Basic ${Buffer.from(`${VASP_USER}:${VASP_PASSWORD}`).toString('base64')}`,
  );
  assert.equal(submit.vaspId, 'VASP1');
  assert.equal(submit.serviceCode, 'SC1');
  assert.equal(submit.subject, 'Plans');
  assert.ok(submit.deliveryReport);
  assert.ok(
    submit.parts.some((p) => p.contentType === 'image/png' && p.sha256 === IMAGE_SHA),
    'the image bytes arrive unchanged',
  );
  assert.ok(
    submit.parts.some(
      (p) => p.contentType === 'text/plain' && p.bytes.toString('utf8').includes('Dinner at 8?'),
    ),
  );
  assert.ok(submit.smil, 'a SMIL presentation');
  assert.deepEqual(
    await carrierIds(accepted.id),
    to.map(() => submit.messageId),
    'one MessageID for the group',
  );

  await waitFor(() => envelopesFor(receiver.received, accepted.id).length >= 6, {
    description: 'six webhooks',
  });
  const events = envelopesFor(receiver.received, accepted.id);
  for (const phone of to) {
    const types = events
      .filter((e) => e.data.payload.to[0]!.phone_number === phone)
      .map((e) => e.data.event_type);
    assert.deepEqual(types, ['message.sent', 'message.finalized'], phone);
  }
});

test('a retryable fault (4006 Service unavailable) is retried and then delivered, with one carrier id', async () => {
  const to = ['+13125550106', '+13125552011'];
  const accepted = await send(to);
  const final = await waitForFinal(gw, accepted.id);
  assert.deepEqual(
    final.to.map((r) => r.status),
    ['delivered', 'delivered'],
  );
  const mine = mmsc.submissions.filter((s) => s.to.join() === to.join());
  assert.ok(mine.length >= 2, 'refused at least once first');
  const taken = mine.filter((s) => s.messageId !== undefined);
  assert.equal(taken.length, 1, 'accepted once');
  assert.deepEqual(await carrierIds(accepted.id), [taken[0]!.messageId, taken[0]!.messageId]);
});

test('a permanent fault (2002 Address Error) ends every recipient in sending_failed with the mapped code', async () => {
  const to = ['+13125550102', '+13125552021'];
  const accepted = await send(to);
  const final = await waitForFinal(gw, accepted.id);
  assert.deepEqual(
    final.to.map((r) => r.status),
    ['sending_failed', 'sending_failed'],
  );
  assert.equal(final.errors[0]?.code, '40012');
  assert.match(final.errors[0]?.detail ?? '', /2002/);
  assert.equal(mmsc.submissions.filter((s) => s.to.join() === to.join()).length, 1, 'not retried');
});

test('reports duplicated and out of order (Deferred after Retrieved) change nothing and send no second webhook', async () => {
  mmsc.controlReports({ hold: true, duplicate: true, reverse: true });
  const to = ['+13125550105', '+13125550101', '+13125552031'];
  const accepted = await send(to);
  await waitFor(async () => (await carrierIds(accepted.id)).every((id) => id !== null), {
    description: 'submitted',
  });
  mmsc.controlReports({ hold: false, duplicate: true, reverse: true });
  const final = await waitForFinal(gw, accepted.id);
  mmsc.controlReports({ hold: false, duplicate: false, reverse: false });
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    [
      ['+13125550105', 'delivered'],
      ['+13125550101', 'delivery_failed'],
      ['+13125552031', 'delivered'],
    ],
  );
  assert.equal(final.errors[0]?.code, '40004');
  await waitFor(async () => (await gw.store.jobs.count()) === 0, { description: 'all work done' });
  const finalized = envelopesFor(receiver.received, accepted.id).filter(
    (e) => e.data.event_type === 'message.finalized',
  );
  assert.equal(finalized.length, 3, 'one message.finalized per recipient');
});

test('a handset reply sent by the emulator as a DeliverReq reaches the profile webhook as message.received', async () => {
  const profile = await gw.store.profiles.get(gw.organizationId, gw.profileId);
  await gw.store.profiles.update(
    gw.organizationId,
    gw.profileId,
    { ...profile!.data, webhook_url: receiver.url },
    new Date().toISOString(),
  );
  const photo = makePng(900, 5);
  const answer = await mmsc.deliver({
    from: '+13125552041',
    to: [gw.numbers[0]!, '+13125552042'],
    cc: ['+13125552043'],
    bcc: ['+13125552044'],
    subject: 'Re: Plans',
    text: 'Count me in',
    media: [{ contentType: 'image/png', bytes: photo }],
  });
  assert.equal(answer.httpStatus, 200, answer.body);
  assert.equal(answer.statusCode, 1000);
  const request = await waitFor(
    () =>
      receiver.received.find(
        (r) => r.rawBody.includes('"message.received"') && r.rawBody.includes('Count me in'),
      ),
    { description: 'message.received' },
  );
  const payload = (
    JSON.parse(request.rawBody) as {
      data: {
        payload: {
          from: { phone_number: string };
          to: Array<{ phone_number: string }>;
          cc: Array<{ phone_number: string }>;
          media: Array<{ hash_sha256: string; url: string }>;
        };
      };
    }
  ).data.payload;
  assert.equal(payload.from.phone_number, '+13125552041');
  assert.deepEqual(
    payload.to.map((t) => t.phone_number),
    [gw.numbers[0]],
  );
  assert.deepEqual(payload.cc.map((c) => c.phone_number).sort(), ['+13125552042', '+13125552043']);
  assert.ok(!request.rawBody.includes('+13125552044'), 'never the Bcc');
  const sha = createHash('sha256').update(photo).digest('hex');
  assert.deepEqual(
    payload.media.map((m) => m.hash_sha256),
    [sha],
  );
  const fetched = await fetch(payload.media[0]!.url);
  assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), photo);
});
