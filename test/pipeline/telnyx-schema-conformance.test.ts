import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ValidateFunction } from 'ajv';
import { makePng } from '../media/fixtures.ts';
import { type LocalServer, startLocalServer } from '../net/local-server.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  api,
  envelopesFor,
  sendGroupMms,
  startPipelineGateway,
  waitForDeliveriesSettled,
} from '../support/pipeline-gateway.ts';
import { telnyxAjv } from '../support/telnyx-spec.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Every body the gateway produces, validated (JSON Schema 2020-12, OpenAPI 3.0 `nullable` read as
 * meant) against Telnyx's own schemas in the shared subsets: each route's response and each
 * webhook event type.
 */

const ajv = telnyxAjv();
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

function assertValid(validate: ValidateFunction, body: unknown, what: string) {
  const ok = validate(body);
  assert.ok(
    ok,
    `${what}: ${JSON.stringify(validate.errors, null, 1)}\n${JSON.stringify(body).slice(0, 2000)}`,
  );
}

async function call(method: string, path: string, body?: unknown, status = 200) {
  const res = await api(gw, method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

test('message responses and both webhook event types match OutboundMessagePayload / OutboundMessageEvent', async () => {
  // +44 7700 900… is a fictional UK mobile range the prefix table does not know: no carrier.
  const sent = await sendGroupMms(gw, {
    to: ['+13125550100', '+13125550101', '+13125550102', '+447700900123'],
    media_urls: ['http://127.0.0.1:1/missing.png'],
    webhook_url: receiver.url,
  });
  const textOnly = await sendGroupMms(gw, { to: ['+13125550104'], text: 'Hi', webhook_url: receiver.url });
  assertValid(ajv.response('messaging', 'post', '/messages/group_mms'), { data: sent }, 'POST group_mms');

  await waitForDeliveriesSettled(gw, sent.id, 4);
  await waitForDeliveriesSettled(gw, textOnly.id, 2);

  const getOne = ajv.response('messaging', 'get', '/messages/{id}');
  for (const id of [sent.id, textOnly.id]) {
    const group = (await call('GET', `/v2/messages/${id}`)) as { data: { to: unknown[] } };
    assertValid(getOne, group, `GET /v2/messages/${id}`);
    const perRecipient = (await call('GET', `/v2/messages/group/${id}`)) as { data: Array<{ id: string }> };
    assertValid(ajv.response('messaging', 'get', '/messages/group/{message_id}'), perRecipient, 'GET group');
    for (const r of perRecipient.data)
      assertValid(getOne, await call('GET', `/v2/messages/${r.id}`), 'recipient');
  }

  const event = ajv.component('messaging', 'OutboundMessageEvent');
  const envelopes = [
    ...envelopesFor(receiver.received, sent.id),
    ...envelopesFor(receiver.received, textOnly.id),
  ];
  const types = new Set(envelopes.map((e) => e.data.event_type));
  assert.deepEqual([...types].sort(), ['message.finalized', 'message.sent']);
  for (const e of envelopes) assertValid(event, e, `webhook ${e.data.event_type}`);
});

test('profiles, numbers, deliveries and errors match their Telnyx schemas', async () => {
  const created = (await call('POST', '/v2/messaging_profiles', {
    name: 'Conformance',
    whitelisted_destinations: ['US'],
  })) as {
    data: { id: string };
  };
  assertValid(ajv.response('messaging', 'post', '/messaging_profiles'), created, 'POST profile');
  const id = created.data.id;
  assertValid(
    ajv.response('messaging', 'get', '/messaging_profiles'),
    await call('GET', '/v2/messaging_profiles'),
    'list',
  );
  assertValid(
    ajv.response('messaging', 'get', '/messaging_profiles/{id}'),
    await call('GET', `/v2/messaging_profiles/${id}`),
    'get',
  );
  assertValid(
    ajv.response('messaging', 'patch', '/messaging_profiles/{id}'),
    await call('PATCH', `/v2/messaging_profiles/${id}`, { webhook_url: receiver.url }),
    'patch',
  );
  assertValid(
    ajv.response('messaging', 'get', '/messaging_profiles/{id}/phone_numbers'),
    await call('GET', `/v2/messaging_profiles/${gw.profileId}/phone_numbers`),
    'profile numbers',
  );
  const number = gw.numbers[2]!;
  assertValid(
    ajv.response('messaging', 'get', '/phone_numbers/{id}/messaging'),
    await call('GET', `/v2/phone_numbers/${number}/messaging`),
    'number',
  );
  assertValid(
    ajv.response('messaging', 'patch', '/phone_numbers/{id}/messaging'),
    await call('PATCH', `/v2/phone_numbers/${number}/messaging`, { messaging_profile_id: id }),
    'patch number',
  );
  assertValid(
    ajv.response('messaging', 'get', '/phone_numbers/messaging'),
    await call('GET', '/v2/phone_numbers/messaging'),
    'numbers list',
  );
  assertValid(
    ajv.response('messaging', 'delete', '/messaging_profiles/{id}'),
    await call('DELETE', `/v2/messaging_profiles/${id}`),
    'delete',
  );

  await sendGroupMms(gw, { to: ['+13125550100'], text: 'deliveries', webhook_url: receiver.url });
  const list = (await call('GET', '/v2/webhook_deliveries')) as { data: Array<{ id: string }> };
  assert.ok(list.data.length > 0);
  assertValid(ajv.response('extra', 'get', '/webhook_deliveries'), list, 'deliveries');
  assertValid(
    ajv.response('extra', 'get', '/webhook_deliveries/{id}'),
    await call('GET', `/v2/webhook_deliveries/${list.data[0]!.id}`),
    'delivery',
  );

  const errors = ajv.component('messaging', 'messaging_Errors');
  assertValid(
    errors,
    await call('GET', '/v2/messaging_profiles/00000000-0000-4000-8000-000000000000', undefined, 404),
    '404',
  );
  assertValid(errors, await call('POST', '/v2/messages/group_mms', { from: 'x', to: [] }, 400), '400');
});

test('an inbound group MMS, as message.received and as the simulator route answers it, matches InboundMessageEvent / InboundMessagePayload', async () => {
  const picture = makePng(2000, 1);
  const media: LocalServer = await startLocalServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(picture);
  });
  try {
    await call('PATCH', `/v2/messaging_profiles/${gw.profileId}`, { webhook_url: receiver.url });
    // +44 7700 900… has no carrier in the prefix table: its carrier and line type are unknown.
    const from = '+447700900123';
    const answered = (await call('POST', '/v2/simulator/messages', {
      from,
      to: gw.numbers[0],
      cc: ['+13125550100', '+13125557401'],
      text: 'inbound',
      media_urls: [`${media.origin}/cat.png`],
    })) as { data: { id: string; media: Array<{ hash_sha256: string }> } };
    const received = await waitFor(() =>
      receiver.received
        .map((r) => JSON.parse(r.rawBody) as { data: { event_type: string; payload: { id: string } } })
        .find((e) => e.data.event_type === 'message.received' && e.data.payload.id === answered.data.id),
    );
    // The one known disagreement: Telnyx's schema gives `hash_sha256` 32 characters, but a SHA-256
    // in hex (what we send, and what the name says) has 64. Checked here, then left out.
    const hash = answered.data.media[0]!.hash_sha256;
    assert.match(hash, /^[0-9a-f]{64}$/);
    const withoutHash = <T>(body: T): T =>
      JSON.parse(
        JSON.stringify(body).replaceAll(`"hash_sha256":"${hash}"`, `"hash_sha256":"${hash.slice(0, 32)}"`),
      );
    assertValid(ajv.component('messaging', 'InboundMessageEvent'), withoutHash(received), 'message.received');
    assertValid(
      ajv.component('messaging', 'InboundMessagePayload'),
      withoutHash(answered.data),
      'route answer',
    );
  } finally {
    await media.close();
  }
});
