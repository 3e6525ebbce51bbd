import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import { uuidV7 } from '../../src/ids/uuid-v7.ts';
import { makePng } from '../media/fixtures.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  deliverReq,
  deliveryReportReq,
  postMm7,
  readReplyReq,
  soapRequest,
  statusCodeOf,
} from '../support/mm7-requests.ts';
import { api, getMessage, startPipelineGateway, waitForFinal } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The MM7 receiver at /mm7/<connector>: inbound group MMS → message.received at the profile's
 * webhook; delivery reports through the one durable report entry; read replies kept; credentials,
 * malformed and hostile bodies refused with nothing stored.
 */

const USER = 'mmsc-in';
const PASSWORD = 'in-pw-4aJ9';
const AUTH: [string, string] = [USER, PASSWORD];
const BODY_LIMIT = 256 * 1024;

let gw: TestGateway;
let receiver: WebhookReceiver;
let mm7Url: string;

before(async () => {
  gw = await startPipelineGateway({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT), CONNECTOR_CACHE_MS: '0' } });
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  const now = new Date().toISOString();
  await gw.store.connectors.add({
    name: 'mmsc',
    type: 'mm7',
    settings: {
      url: 'http://127.0.0.1:9/unused',
      inboundUsername: USER,
      inboundPassword: PASSWORD,
      mm7Version: 'REL-6-MM7-1-4',
      defaultCountry: 'US',
    },
    created_at: now,
    updated_at: now,
  });
  const profile = await gw.store.profiles.get(gw.organizationId, gw.profileId);
  await gw.store.profiles.update(
    gw.organizationId,
    gw.profileId,
    { ...profile!.data, webhook_url: receiver.url },
    now,
  );
  mm7Url = `${gw.url}/mm7/mmsc`;
});

after(async () => {
  await gw?.close();
  await receiver?.close();
});

test('a group DeliverReq (To + Cc + Bcc) becomes message.received at the profile webhook, SDK-verified, media fetchable', async () => {
  const [ours1, ours2] = gw.numbers;
  const image = makePng(3000, 7);
  const res = await postMm7(
    mm7Url,
    deliverReq({
      from: '13125556666',
      to: [ours1!, '+13125557777'],
      cc: ['+13125558888', ours2!],
      bcc: ['+13125559999'],
      subject: 'Group reply',
      text: 'Sounds good to me',
      image: { contentType: 'image/png', bytes: image },
    }),
    AUTH,
  );
  assert.equal(res.status, 200, res.text);
  assert.match(res.text, /DeliverRsp/);
  assert.equal(statusCodeOf(res.text), 1000);

  const request = await waitFor(
    () => receiver.received.find((r) => r.rawBody.includes('"message.received"')),
    { description: 'message.received at the profile webhook' },
  );
  const publicKey = (
    (await (
      await fetch(`${gw.url}/v2/public_key`, { headers: { authorization: `Bearer ${gw.apiKey}` } })
    ).json()) as { data: { public_key: string } }
  ).data.public_key;
  const event = (await new Telnyx({ apiKey: 'x' }).webhooks.unwrap(request.rawBody, {
    headers: request.headers,
    key: publicKey,
  })) as unknown as {
    data: { event_type: string; payload: Record<string, unknown> & { id: string } };
  };
  assert.equal(event.data.event_type, 'message.received');
  const p = event.data.payload as {
    id: string;
    direction: string;
    type: string;
    from: { phone_number: string };
    to: Array<{ phone_number: string }>;
    cc: Array<{ phone_number: string }>;
    text: string;
    subject: string;
    media: Array<{ url: string; content_type: string; size: number; hash_sha256: string }>;
    messaging_profile_id: string;
    organization_id: string;
  };
  assert.equal(p.direction, 'inbound');
  assert.equal(p.type, 'MMS');
  assert.equal(p.from.phone_number, '+13125556666');
  assert.deepEqual(p.to.map((t) => t.phone_number).sort(), [ours1, ours2].sort());
  assert.deepEqual(p.cc.map((c) => c.phone_number).sort(), ['+13125557777', '+13125558888']);
  assert.ok(!request.rawBody.includes('9999'), 'the Bcc addressee is never shown');
  assert.equal(p.text, 'Sounds good to me');
  assert.equal(p.subject, 'Group reply');
  assert.equal(p.messaging_profile_id, gw.profileId);
  assert.equal(p.organization_id, gw.organizationId);
  assert.equal(p.media.length, 1, 'the image only: text and SMIL are not media');
  const sha = createHash('sha256').update(image).digest('hex');
  assert.deepEqual(p.media[0], {
    url: `${gw.url}/media/${sha}`,
    content_type: 'image/png',
    size: image.length,
    hash_sha256: sha,
  });
  const fetched = await fetch(p.media[0]!.url);
  assert.equal(fetched.status, 200);
  assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), image);

  const read = await getMessage(gw, p.id);
  assert.equal(read.direction, 'inbound');
  assert.deepEqual(read.to.map((t) => t.phone_number).sort(), [ours1, ours2].sort());
  assert.deepEqual((read.cc as Array<{ phone_number: string }>).map((c) => c.phone_number).sort(), [
    '+13125557777',
    '+13125558888',
  ]);
  const deliveries = await api<{ data: Array<{ event_type: string; status: string }> }>(
    gw,
    'GET',
    `/v2/messages/${p.id}/webhook_deliveries`,
  );
  assert.deepEqual(
    deliveries.body.data.map((d) => d.event_type),
    ['message.received'],
  );
});

test('wrong or missing inbound credentials: 401 and nothing recorded', async () => {
  const before = await gw.store.inboundReceipts.list(1000);
  const body = deliverReq({
    from: '+13125556666',
    to: [gw.numbers[0]!],
    text: 'no auth',
    image: { contentType: 'image/png', bytes: makePng(100, 1) },
  });
  for (const auth of [
    undefined,
    [USER, 'wrong'] as [string, string],
    ['other', PASSWORD] as [string, string],
  ]) {
    const res = await postMm7(mm7Url, body, auth);
    assert.equal(res.status, 401);
    assert.ok(!res.text.includes(PASSWORD));
  }
  const report = await postMm7(
    mm7Url,
    deliveryReportReq({ messageId: 'never-applied', recipient: '+13125550100', mmStatus: 'Retrieved' }),
    [USER, 'nope'],
  );
  assert.equal(report.status, 401);
  assert.equal((await gw.store.inboundReceipts.list(1000)).length, before.length);
  assert.equal(await gw.store.jobs.count('carrier.report'), 0);
});

test('a message to numbers no organization has is answered 1000, kept for the operator, and sends no webhook', async () => {
  const posts = receiver.posts();
  const res = await postMm7(
    mm7Url,
    deliverReq({
      from: '+13125556666',
      to: ['+13125554444'],
      text: 'wrong number',
      image: { contentType: 'image/png', bytes: makePng(120, 2) },
    }),
    AUTH,
  );
  assert.equal(res.status, 200);
  assert.equal(statusCodeOf(res.text), 1000);
  const [latest] = await gw.store.inboundReceipts.list(1);
  assert.equal(latest?.routed, false);
  assert.deepEqual(latest?.message_ids, []);
  assert.deepEqual((latest!.payload as { to: string[] }).to, ['+13125554444']);
  assert.equal(receiver.posts(), posts);
});

test('a ReadReplyReq is kept and answered, with no event', async () => {
  const posts = receiver.posts();
  const res = await postMm7(
    mm7Url,
    readReplyReq({ messageId: 'MID-read', sender: '+13125550100', recipient: gw.numbers[0]! }),
    AUTH,
  );
  assert.equal(res.status, 200, res.text);
  assert.match(res.text, /ReadReplyRsp/);
  assert.equal(statusCodeOf(res.text), 1000);
  const [latest] = await gw.store.inboundReceipts.list(1);
  assert.equal(latest?.kind, 'read_reply');
  assert.equal(latest?.carrier_message_id, 'MID-read');
  assert.equal(receiver.posts(), posts);
});

test('malformed and hostile bodies get a SOAP Fault, nothing stored, and the gateway keeps answering', async () => {
  const receiptsBefore = (await gw.store.inboundReceipts.list(1000)).length;
  const good = deliverReq({
    from: '+13125556666',
    to: [gw.numbers[0]!],
    text: 'x',
    image: { contentType: 'image/png', bytes: makePng(100, 3) },
  });
  const boundary = /boundary="([^"]+)"/.exec(good.contentType)![1]!;
  const lol =
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">' +
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>' +
    '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><TransactionID>t</TransactionID></env:Header>' +
    '<env:Body><DeliveryReportReq><MM7Version>6.8.0</MM7Version><MessageID>&lol4;</MessageID>' +
    '<Recipient><Number>+13125550100</Number></Recipient><MMStatus>Retrieved</MMStatus></DeliveryReportReq></env:Body></env:Envelope>';
  const xxe =
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' +
    '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><TransactionID>t</TransactionID></env:Header>' +
    '<env:Body><DeliveryReportReq><MM7Version>6.8.0</MM7Version><MessageID>&x;</MessageID>' +
    '<Recipient><Number>+13125550100</Number></Recipient><MMStatus>Retrieved</MMStatus></DeliveryReportReq></env:Body></env:Envelope>';
  const cases: Array<[string, { contentType: string; body: Buffer }, number]> = [
    ['truncated multipart', { contentType: good.contentType, body: good.body.subarray(0, 400) }, 500],
    ['wrong boundary', { contentType: good.contentType.replace(boundary, 'nope'), body: good.body }, 500],
    ['not XML', { contentType: 'text/xml', body: Buffer.from('hello') }, 500],
    ['empty body', { contentType: 'text/xml', body: Buffer.alloc(0) }, 500],
    ['billion laughs', { contentType: 'text/xml', body: Buffer.from(lol) }, 500],
    ['external entity', { contentType: 'text/xml', body: Buffer.from(xxe) }, 500],
    [
      'an operation we do not take (SubmitReq)',
      soapRequest('t1', '<SubmitReq xmlns="urn:x"><MM7Version>6.8.0</MM7Version></SubmitReq>'),
      500,
    ],
    [
      'a part over the body limit',
      { contentType: good.contentType, body: Buffer.alloc(BODY_LIMIT + 1, 65) },
      413,
    ],
  ];
  for (const [what, request, status] of cases) {
    const res = await postMm7(mm7Url, request, AUTH);
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.match(res.contentType, /text\/xml/, what);
    assert.match(res.text, /Fault/, what);
    assert.match(res.text, /RSErrorRsp/, what);
    assert.ok(!res.text.includes('root:'), `${what}: no file contents`);
  }
  assert.equal((await gw.store.inboundReceipts.list(1000)).length, receiptsBefore);
  assert.equal(await gw.store.jobs.count('carrier.report'), 0);
  const alive = await postMm7(mm7Url, good, AUTH);
  assert.equal(statusCodeOf(alive.text), 1000);
  const unknownConnector = await postMm7(`${gw.url}/mm7/nope`, good, AUTH);
  assert.equal(unknownConnector.status, 404);
});

/** A group message already submitted over MM7: every recipient `sent` with the one MessageID. */
async function sentGroup(carrierId: string | null, phones: string[]) {
  const now = new Date();
  const at = now.toISOString();
  const id = uuidV7(now.getTime());
  await gw.store.messages.insert(
    {
      id,
      organization_id: gw.organizationId,
      messaging_profile_id: gw.profileId,
      from_number: gw.numbers[0]!,
      from_carrier: null,
      from_line_type: null,
      text: 'reports',
      subject: null,
      media: [],
      webhook_url: receiver.url,
      webhook_failover_url: null,
      use_profile_webhooks: false,
      encoding: 'GSM-7',
      parts: 1,
      num_chars: 7,
      tags: [],
      received_at: at,
      valid_until: new Date(now.getTime() + 3_600_000).toISOString(),
    },
    phones.map((phone, position) => ({
      id: uuidV7(now.getTime()),
      message_id: id,
      position,
      phone_number: phone,
      carrier: null,
      line_type: null,
      status: carrierId ? 'sent' : 'sending',
      carrier_message_id: carrierId,
      cost: null,
      errors: [],
      sent_at: carrierId ? at : null,
      completed_at: null,
      updated_at: at,
    })),
  );
  return id;
}

const finalizedOf = (groupId: string) =>
  receiver.received
    .filter((r) => r.rawBody.includes(groupId) && r.rawBody.includes('"message.finalized"'))
    .map(
      (r) =>
        JSON.parse(r.rawBody) as {
          data: { payload: { to: Array<{ phone_number: string; status: string }> } };
        },
    );

test('delivery reports: mapped per recipient of one MessageID, duplicates and late contradicting ones change nothing', async () => {
  const phones = ['+13125551201', '+13125551202', '+13125551203'];
  const groupId = await sentGroup('MID-group-1', phones);
  const post = async (recipient: string, mmStatus: string) => {
    const res = await postMm7(
      mm7Url,
      deliveryReportReq({ messageId: 'MID-group-1', recipient, mmStatus }),
      AUTH,
    );
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /DeliveryReportRsp/);
    assert.equal(statusCodeOf(res.text), 1000);
  };
  await post('13125551201', 'Retrieved'); // no +: normalised with the connector's default country
  await post('+13125551202', 'Rejected');
  await post('+13125551203', 'Deferred'); // not final
  await post('+13125551201', 'Retrieved'); // duplicate
  await post('+13125551201', 'Expired'); // out of order, after a final one
  await post('+13125551203', 'Indeterminate');
  await post('+13125551203', 'Retrieved'); // after a final one

  const final = await waitForFinal(gw, groupId);
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    [
      ['+13125551201', 'delivered'],
      ['+13125551202', 'delivery_failed'],
      ['+13125551203', 'delivery_unconfirmed'],
    ],
  );
  assert.deepEqual(
    final.errors.map((e) => e.code),
    ['40004'],
  );
  await waitFor(() => finalizedOf(groupId).length >= 3, { description: 'three message.finalized' });
  // Give any stray second event the time the first ones took, then count again.
  await waitFor(async () => (await gw.store.jobs.count('carrier.report')) === 0, {
    description: 'reports applied',
  });
  await waitFor(async () => (await gw.store.jobs.count('webhook.deliver')) === 0, {
    description: 'webhooks sent',
  });
  assert.equal(finalizedOf(groupId).length, 3, 'one message.finalized per recipient, none for duplicates');
});

test('a report that arrives before its submit answer is committed is applied once the carrier id is', async () => {
  const phones = ['+13125551301', '+13125551302'];
  const groupId = await sentGroup(null, phones);
  for (const phone of phones) {
    const res = await postMm7(
      mm7Url,
      deliveryReportReq({ messageId: 'MID-early', recipient: phone, mmStatus: 'Retrieved' }),
      AUTH,
    );
    assert.equal(statusCodeOf(res.text), 1000, 'answered only after it is committed');
  }
  assert.equal(await gw.store.jobs.count('carrier.report'), 2, 'kept while no recipient matches');
  const at = new Date().toISOString();
  const { recipients } = (await gw.store.messages.get(groupId))!;
  for (const r of recipients) {
    await gw.store.messages.transitionRecipient(
      r.id,
      ['sending'],
      { status: 'sent', carrier_message_id: 'MID-early', sent_at: at },
      at,
    );
  }
  const final = await waitForFinal(gw, groupId);
  assert.deepEqual(
    final.to.map((r) => r.status),
    ['delivered', 'delivered'],
  );
});
