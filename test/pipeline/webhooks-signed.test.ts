import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import type { TestGateway } from '../support/gateway.ts';
import {
  api,
  envelopeOf,
  envelopesFor,
  getMessage,
  sendGroupMms,
  startPipelineGateway,
  type WebhookEnvelope,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * A group MMS end to end: accepted over the API, sent through the simulator, and every recipient's
 * `message.sent` and `message.finalized` webhook verified with Telnyx's own SDK.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const RECIPIENTS = ['+13125550100', '+13125557001', '+13125557002'];

let gw: TestGateway;
let receiver: WebhookReceiver;

before(async () => {
  gw = await startPipelineGateway();
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
});

after(async () => {
  await gw?.close();
  await receiver?.close();
});

test('every recipient gets message.sent and message.finalized, signed so the Telnyx SDK accepts them', async () => {
  const keyRes = await fetch(`${gw.url}/v2/public_key`, {
    headers: { authorization: `Bearer ${gw.apiKey}` },
  });
  assert.equal(keyRes.status, 200);
  const publicKey = ((await keyRes.json()) as { data: { public_key: string } }).data.public_key;
  assert.equal(Buffer.from(publicKey, 'base64').length, 32);

  const accepted = await sendGroupMms(gw, {
    to: RECIPIENTS,
    text: 'Hello, signed webhooks',
    webhook_url: receiver.url,
  });
  const groupId = accepted.id;

  const final = await waitForFinal(gw, groupId);
  const requests = await waitFor(
    () => {
      const mine = receiver.received.filter((r) => envelopeOf(r).data.payload.group_message_id === groupId);
      return mine.length >= RECIPIENTS.length * 2 ? mine : null;
    },
    { description: 'six webhooks' },
  );
  assert.equal(requests.length, RECIPIENTS.length * 2, 'exactly one of each event per recipient');

  const telnyx = new Telnyx({ apiKey: 'x' });
  const events: WebhookEnvelope[] = [];
  for (const request of requests) {
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/webhook');
    assert.match(request.headers['content-type'] ?? '', /^application\/json/);
    assert.match(request.headers['telnyx-timestamp'] ?? '', /^\d+$/);
    assert.ok(request.headers['telnyx-signature-ed25519'], 'signature header present');

    const unwrapped = await telnyx.webhooks.unwrap(request.rawBody, {
      headers: request.headers,
      key: publicKey,
    });
    assert.deepEqual(unwrapped, JSON.parse(request.rawBody));
    events.push(unwrapped as unknown as WebhookEnvelope);

    // The check is not vacuous: one changed byte, or another key, and the SDK refuses it.
    const tampered = request.rawBody.replace('"record_type":"event"', '"record_type":"evenT"');
    assert.notEqual(tampered, request.rawBody);
    await assert.rejects(
      telnyx.webhooks.unwrap(tampered, { headers: request.headers, key: publicKey }),
      /signature/i,
    );
  }
  const otherKey = Buffer.alloc(32, 7).toString('base64');
  await assert.rejects(
    telnyx.webhooks.unwrap(requests[0]!.rawBody, { headers: requests[0]!.headers, key: otherKey }),
    /signature/i,
  );

  const ids = new Set<string>();
  for (const e of events) {
    assert.deepEqual(Object.keys(e).sort(), ['data', 'meta']);
    assert.deepEqual(Object.keys(e.data).sort(), [
      'event_type',
      'id',
      'occurred_at',
      'payload',
      'record_type',
    ]);
    assert.match(e.data.id, UUID);
    ids.add(e.data.id);
    assert.match(e.data.occurred_at, ISO);
    assert.equal(e.data.record_type, 'event');
    assert.deepEqual(e.meta, { attempt: 1, delivered_to: receiver.url });

    const p = e.data.payload;
    assert.equal(p.record_type, 'message');
    assert.equal(p.group_message_id, groupId);
    assert.match(p.id, UUID);
    assert.notEqual(p.id, groupId, 'the payload is the recipient record, not the group');
    assert.equal(p.to.length, 1, 'one recipient per payload');
    assert.equal(p.webhook_url, receiver.url);
    assert.equal(p.text, 'Hello, signed webhooks');
  }
  assert.equal(ids.size, events.length, 'every event has its own id');

  for (const phone of RECIPIENTS) {
    const mine = events.filter((e) => e.data.payload.to[0]!.phone_number === phone);
    const sent = mine.filter((e) => e.data.event_type === 'message.sent');
    const finalized = mine.filter((e) => e.data.event_type === 'message.finalized');
    assert.equal(sent.length, 1, `${phone}: one message.sent`);
    assert.equal(finalized.length, 1, `${phone}: one message.finalized`);
    const s = sent[0]!.data.payload;
    const f = finalized[0]!.data.payload;
    assert.equal(s.id, f.id, `${phone}: both events carry the same recipient record`);
    assert.equal(s.to[0]!.status, 'sent');
    assert.match(s.sent_at ?? '', ISO);
    assert.equal(s.completed_at, null);
    assert.equal(f.to[0]!.status, 'delivered');
    assert.equal(f.sent_at, s.sent_at);
    assert.match(f.completed_at ?? '', ISO);
    assert.deepEqual(f.errors, []);
    assert.equal(sent[0]!.data.occurred_at, s.sent_at, 'message.sent occurred when it was sent');
    assert.equal(finalized[0]!.data.occurred_at, f.completed_at);

    // The recipient's own record reads back the same as its final webhook.
    const own = await getMessage(gw, f.id);
    assert.equal(own.to[0]!.status, 'delivered');
    assert.equal(own.sent_at, f.sent_at);
    assert.equal(own.completed_at, f.completed_at);
  }

  assert.equal(final.id, groupId);
  assert.deepEqual(
    final.to.map((r) => [r.phone_number, r.status]),
    RECIPIENTS.map((p) => [p, 'delivered']),
  );
  assert.match(final.sent_at ?? '', ISO);
  assert.match(final.completed_at ?? '', ISO);
  assert.deepEqual(final.errors, []);
  assert.equal(envelopesFor(receiver.received, groupId).length, RECIPIENTS.length * 2, 'no duplicates later');

  const group = await api<{ data: Array<{ id: string; to: Array<{ status: string }> }> }>(
    gw,
    'GET',
    `/v2/messages/group/${groupId}`,
  );
  assert.equal(group.status, 200);
  assert.deepEqual(group.body.data.map((r) => r.to[0]!.status).sort(), [
    'delivered',
    'delivered',
    'delivered',
  ]);
});
