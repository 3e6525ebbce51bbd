import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import { DEFAULT_REPLIES } from '../../src/optouts/keywords.ts';
import { makePng } from '../media/fixtures.ts';
import { createTenant, type TestGateway } from '../support/gateway.ts';
import { deliverReq, postMm7, statusCodeOf } from '../support/mm7-requests.ts';
import {
  type ApiMessage,
  api,
  envelopeOf,
  startPipelineGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { telnyxAjv } from '../support/telnyx-spec.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Opt-outs as Telnyx does them for long codes: a keyword texted to one of our numbers (here through
 * the MM7 receiver) changes the profile's block rules, is still delivered as message.received with
 * autoresponse_type, and is answered from the receiving number through the normal pipeline; a send
 * to a blocked number is refused with 40300 and nothing stored; GET /v2/messaging_optouts lists the
 * rules for the official SDK.
 */

const AUTH: [string, string] = ['mmsc-in', 'in-pw-7Qw2'];
const STOP_REPLY =
  'You have successfully been unsubscribed, you will not receive any more messages from this number. Reply START to re-subscribe.';
const START_REPLY =
  'You have successfully been re-subscribed to this number. Reply STOP to unsubscribe. Msg&Data Rates May Apply.';

const ajv = telnyxAjv();
let gw: TestGateway;
let receiver: WebhookReceiver;
let sdk: Telnyx;
let nextHandset = 7000;

/** A fresh handset number (fictional +1312555 range, none of the simulator's magic numbers). */
const handset = () => `+1312555${nextHandset++}`;

before(async () => {
  gw = await startPipelineGateway({ env: { CONNECTOR_CACHE_MS: '0' } });
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  const now = new Date().toISOString();
  await gw.store.connectors.add({
    name: 'mmsc',
    type: 'mm7',
    settings: {
      url: 'http://127.0.0.1:9/unused',
      inboundUsername: AUTH[0],
      inboundPassword: AUTH[1],
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
  sdk = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await receiver?.close();
});

interface ReceivedPayload {
  id: string;
  from: { phone_number: string };
  to: Array<{ phone_number: string }>;
  text: string;
  autoresponse_type?: string;
}

/**
 * A handset texts `text` to our number `to` (with other addressees when given) through the MM7
 * receiver; resolves to the payload of the event the app got.
 */
async function inbound(
  from: string,
  text: string,
  to = gw.numbers[0]!,
  group: { to?: string[]; cc?: string[] } = {},
): Promise<ReceivedPayload> {
  const res = await postMm7(
    `${gw.url}/mm7/mmsc`,
    deliverReq({
      from,
      to: [to, ...(group.to ?? [])],
      cc: group.cc,
      text,
      image: { contentType: 'image/png', bytes: makePng(100, 1) },
    }),
    AUTH,
  );
  assert.equal(res.status, 200, res.text);
  assert.equal(statusCodeOf(res.text), 1000);
  return waitFor(
    () => {
      const request = receiver.received.find((r) => {
        const e = envelopeOf(r);
        const p = e.data.payload as unknown as ReceivedPayload;
        return e.data.event_type === 'message.received' && p.from.phone_number === from && p.text === text;
      });
      if (!request) return undefined;
      return (JSON.parse(request.rawBody) as { data: { payload: ReceivedPayload } }).data.payload;
    },
    { description: `message.received from ${from}: ${JSON.stringify(text)}` },
  );
}

/** Outbound messages the gateway sent to `phone`, oldest first. */
async function sentTo(phone: string): Promise<ApiMessage[]> {
  const res = await api<{ data: ApiMessage[] }>(
    gw,
    'GET',
    `/v2/messages?filter[direction]=outbound&filter[to]=${encodeURIComponent(phone)}`,
  );
  assert.equal(res.status, 200);
  return res.body.data.reverse();
}

const isBlocked = async (phone: string) =>
  (await gw.store.optOuts.blockedAmong(gw.profileId, [phone])).has(phone);

async function send(to: string[], from = gw.numbers[0]!) {
  return api<{ data: ApiMessage; errors?: Array<Record<string, unknown>> }>(
    gw,
    'POST',
    '/v2/messages/group_mms',
    {
      from,
      to,
      text: 'Hello group',
    },
  );
}

test('STOP and its variants, in any case and with surrounding whitespace, block the sender; the event says STOP', async () => {
  const variants = [
    'STOP',
    'stop',
    '  Stop \n',
    'STOPALL',
    'stop all',
    'Stop   All',
    'UNSUBSCRIBE',
    'cancel',
    'End',
    '\tquit ',
  ];
  for (const text of variants) {
    const phone = handset();
    const event = await inbound(phone, text);
    assert.equal(event.autoresponse_type, 'STOP', JSON.stringify(text));
    assert.equal(event.text, text, 'the keyword message itself is delivered as sent');
    assert.ok(await isBlocked(phone), `${JSON.stringify(text)} records a block rule`);
  }
});

test('"please stop texting" and other near misses are ordinary messages: no rule, no autoresponse_type, no reply', async () => {
  for (const text of ['please stop texting', 'stop it', 'STOPS', 'help me', 'start over', 'S T O P']) {
    const phone = handset();
    const event = await inbound(phone, text);
    assert.equal(event.autoresponse_type, undefined, text);
    assert.equal(await isBlocked(phone), false, text);
    const res = await send([phone]);
    assert.equal(res.status, 200, `${text}: a later send is accepted`);
    // The only message to it is ours: no auto-reply was queued.
    assert.deepEqual(
      (await sentTo(phone)).map((m) => m.text),
      ['Hello group'],
    );
  }
});

test('a STOP inside a group reply (To + Cc) blocks its sender only, and the reply goes to the sender alone', async () => {
  const phone = handset();
  const friends = [handset(), handset()];
  const event = await inbound(phone, 'stop', gw.numbers[1], { to: [friends[0]!], cc: [friends[1]!] });
  assert.equal(event.autoresponse_type, 'STOP');
  assert.deepEqual(
    (event as unknown as { cc: Array<{ phone_number: string }> }).cc.map((c) => c.phone_number).sort(),
    [...friends].sort(),
  );
  assert.ok(await isBlocked(phone));
  for (const friend of friends) assert.equal(await isBlocked(friend), false);
  const [reply] = await waitFor(async () => {
    const found = await sentTo(phone);
    return found.length > 0 ? found : null;
  });
  assert.equal((reply!.from as { phone_number: string }).phone_number, gw.numbers[1]);
  assert.deepEqual(
    reply!.to.map((r) => r.phone_number),
    [phone],
    'the reply goes to the sender alone, not to the group',
  );
  for (const friend of friends) assert.deepEqual(await sentTo(friend), []);
});

test('the STOP reply goes from the receiving number to the sender, with the default text, through the pipeline', async () => {
  const phone = handset();
  const receiving = gw.numbers[1]!;
  await inbound(phone, 'STOP', receiving);
  const [reply] = await waitFor(async () => {
    const found = await sentTo(phone);
    return found.length > 0 ? found : null;
  });
  assert.equal(reply!.text, STOP_REPLY);
  assert.equal(DEFAULT_REPLIES.stop, STOP_REPLY);
  assert.equal((reply!.from as { phone_number: string }).phone_number, receiving);
  assert.deepEqual(
    reply!.to.map((r) => r.phone_number),
    [phone],
  );
  const final = await waitForFinal(gw, reply!.id);
  assert.equal(final.to[0]!.status, 'delivered', 'sent by the simulator like any message');
});

test('a send to a blocked number: 409 / 40300 with the pointer and detail, nothing stored; every number of the profile is blocked', async () => {
  const blocked = handset();
  const other = handset();
  // The keyword went to our second number; the send comes from the first, of the same profile.
  await inbound(blocked, 'STOP', gw.numbers[1]);
  const before = (await gw.store.messages.listForOrganization(gw.organizationId, {}, 10_000)).length;
  const res = await send([other, blocked], gw.numbers[0]);
  assert.equal(res.status, 409, JSON.stringify(res.body));
  const validate = ajv.component('messaging', 'messaging_Errors');
  assert.ok(validate(res.body), JSON.stringify(validate.errors));
  assert.deepEqual(
    res.body.errors?.map(({ meta: _request, ...e }) => e),
    [
      {
        code: '40300',
        title: 'Blocked due to STOP message',
        detail: `Messages cannot be sent from '${gw.numbers[0]}' to '${blocked}' due to an existing block rule.`,
        source: { pointer: '/to/1' },
      },
    ],
  );
  const after = (await gw.store.messages.listForOrganization(gw.organizationId, {}, 10_000)).length;
  assert.equal(after, before, 'nothing stored');
  assert.deepEqual(await sentTo(other), [], 'not even for the recipient that is not blocked');

  // The official SDK sees the same refusal.
  await assert.rejects(
    sdk.messages.sendGroupMms({ from: gw.numbers[0]!, to: [blocked], text: 'again' }),
    (err: {
      status?: number;
      error?: { errors?: Array<{ code: string; source?: { pointer?: string } }> };
    }) => {
      assert.equal(err.status, 409);
      assert.equal(err.error?.errors?.[0]?.code, '40300');
      assert.equal(err.error?.errors?.[0]?.source?.pointer, '/to/0');
      return true;
    },
  );

  // A rule is the profile's: another organization's profile still sends to the number.
  const tenant = await createTenant(gw.store);
  const elsewhere = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: tenant.numbers[0], to: [blocked], text: 'not blocked here' }),
  });
  assert.equal(elsewhere.status, 200);
});

test('START and UNSTOP remove the rule and reply with the default text; the event says START', async () => {
  for (const keyword of [' start', 'UNSTOP']) {
    const phone = handset();
    await inbound(phone, 'QUIT');
    assert.ok(await isBlocked(phone));
    assert.equal((await send([phone])).status, 409);
    const event = await inbound(phone, keyword);
    assert.equal(event.autoresponse_type, 'START');
    assert.equal(await isBlocked(phone), false);
    const replies = await waitFor(async () => {
      const found = await sentTo(phone);
      return found.length >= 2 ? found : null;
    });
    assert.deepEqual(
      replies.map((m) => m.text),
      [STOP_REPLY, START_REPLY],
    );
    assert.equal((await send([phone])).status, 200, 'sending works again');
  }
});

test('HELP gets the help reply and changes no rule; the event says HELP', async () => {
  const phone = handset();
  const event = await inbound(phone, 'help');
  assert.equal(event.autoresponse_type, 'HELP');
  const [reply] = await waitFor(async () => {
    const found = await sentTo(phone);
    return found.length > 0 ? found : null;
  });
  assert.equal(reply!.text, DEFAULT_REPLIES.info);
  assert.equal((reply!.from as { phone_number: string }).phone_number, gw.numbers[0]);
  assert.equal(await isBlocked(phone), false);
});

test("the profile's autoresp_configs set the reply texts and add keywords", async () => {
  const stopConfig = await sdk.messagingProfiles.autorespConfigs.create(gw.profileId, {
    op: 'stop',
    keywords: ['STOP', 'arret'],
    country_code: '*',
    resp_text: 'You are out. Text START to come back.',
  });
  await sdk.messagingProfiles.autorespConfigs.create(gw.profileId, {
    op: 'info',
    keywords: ['HELP', 'INFO'],
    country_code: 'US',
    resp_text: 'Acme alerts: call 555-0100 for help.',
  });
  // A setting for another country does not apply to these US handsets.
  await sdk.messagingProfiles.autorespConfigs.create(gw.profileId, {
    op: 'info',
    keywords: ['HELP'],
    country_code: 'GB',
    resp_text: 'Acme UK alerts: help is on its way.',
  });

  const texts = async (phone: string, count: number) =>
    (
      await waitFor(async () => {
        const found = await sentTo(phone);
        return found.length >= count ? found : null;
      })
    ).map((m) => m.text);

  const stopper = handset();
  await inbound(stopper, 'Stop');
  assert.deepEqual(await texts(stopper, 1), ['You are out. Text START to come back.']);

  const arret = handset();
  const event = await inbound(arret, ' ARRET ');
  assert.equal(event.autoresponse_type, 'STOP', 'a configured keyword opts out too');
  assert.ok(await isBlocked(arret));
  assert.deepEqual(await texts(arret, 1), ['You are out. Text START to come back.']);

  // QUIT is no keyword of the setting: it keeps Telnyx's default reply.
  const quitter = handset();
  await inbound(quitter, 'quit');
  assert.deepEqual(await texts(quitter, 1), [STOP_REPLY]);

  const helper = handset();
  assert.equal((await inbound(helper, 'info')).autoresponse_type, 'HELP');
  assert.deepEqual(await texts(helper, 1), ['Acme alerts: call 555-0100 for help.']);

  // Deleted, the setting no longer applies.
  await sdk.messagingProfiles.autorespConfigs.delete(stopConfig.data.id, { profile_id: gw.profileId });
  const later = handset();
  await inbound(later, 'STOP');
  assert.deepEqual(await texts(later, 1), [STOP_REPLY]);
  const notAKeyword = handset();
  assert.equal((await inbound(notAKeyword, 'arret')).autoresponse_type, undefined);
});

test('GET /v2/messaging_optouts through the SDK: filters, pages, redaction, tenant scope', async () => {
  const secondProfile = await sdk.messagingProfiles.create({
    name: 'Second',
    whitelisted_destinations: ['US'],
    webhook_url: receiver.url,
  });
  const secondProfileId = secondProfile.data!.id!;
  await sdk.phoneNumbers.messaging.update(gw.numbers[2]!, { messaging_profile_id: secondProfileId });
  const start = new Date().toISOString();
  const ours = [handset(), handset(), handset()];
  for (const phone of ours) await inbound(phone, 'STOP', gw.numbers[0]);
  const onSecond = handset();
  await inbound(onSecond, 'STOP', gw.numbers[2]);
  const end = new Date().toISOString();

  type Item = {
    from?: string;
    to?: string;
    keyword?: string | null;
    messaging_profile_id?: string | null;
    created_at?: string;
  };
  const all = async (query: Parameters<typeof sdk.messagingOptouts.list>[0]) => {
    const items: Item[] = [];
    for await (const item of sdk.messagingOptouts.list(query)) items.push(item);
    return items;
  };

  const second = await all({ filter: { messaging_profile_id: secondProfileId } });
  assert.deepEqual(second, [
    {
      from: gw.numbers[2],
      to: onSecond,
      keyword: 'STOP',
      messaging_profile_id: secondProfileId,
      created_at: second[0]!.created_at,
    },
  ]);
  assert.ok(second[0]!.created_at! >= start && second[0]!.created_at! <= end);
  // The second profile's rule does not block the first profile's numbers.
  assert.equal((await send([onSecond], gw.numbers[0])).status, 200);

  // Page by page (two a page): the SDK follows meta.page_number / total_pages.
  const window = await all({ created_at: { gte: start, lte: end }, page: { size: 2 } } as never);
  assert.deepEqual(window.map((i) => i.to).sort(), [...ours, onSecond].sort());
  const fromFirst = await all({
    filter: { from: gw.numbers[0]!, messaging_profile_id: gw.profileId },
    created_at: { gte: start },
  });
  assert.deepEqual(fromFirst.map((i) => i.to).sort(), [...ours].sort());
  const page = await sdk.messagingOptouts.list({ created_at: { gte: start }, page: { size: 3 } } as never);
  assert.equal(page.data.length, 3);
  assert.deepEqual((page as unknown as { meta: unknown }).meta, {
    page_number: 1,
    page_size: 3,
    total_pages: 2,
    total_results: 4,
  });
  assert.deepEqual(await all({ created_at: { lte: '2000-01-01T00:00:00Z' } }), []);
  assert.deepEqual(await all({ filter: { from: '+19995550000' } }), []);

  const redacted = await all({
    filter: { messaging_profile_id: secondProfileId },
    redaction_enabled: 'true',
  });
  assert.equal(redacted[0]!.to, `${onSecond.slice(0, -4)}****`);

  // Another organization sees none of these.
  const tenant = await createTenant(gw.store);
  const theirs = await fetch(`${gw.url}/v2/messaging_optouts`, {
    headers: { authorization: `Bearer ${tenant.apiKey}` },
  });
  assert.deepEqual(await theirs.json(), {
    data: [],
    meta: { page_number: 1, page_size: 20, total_pages: 1, total_results: 0 },
  });

  const bad = await api<{ errors: Array<{ code: string }> }>(
    gw,
    'GET',
    '/v2/messaging_optouts?created_at[gte]=yesterday',
  );
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errors[0]!.code, '10015');

  // A deleted profile takes its rules with it.
  await sdk.messagingProfiles.delete(secondProfileId);
  assert.deepEqual(await all({ filter: { messaging_profile_id: secondProfileId } }), []);
  assert.equal((await all({ created_at: { gte: start } })).length, 3);
});
