import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import type { Store } from '../../src/store/store.ts';
import { publishedSigningKeys } from '../../src/webhooks/organization-signing-keys.ts';
import { createSigner, generateSigningKeyPair, type Signer } from '../../src/webhooks/signing.ts';
import { makePng, serve, startMediaServer } from '../media/fixtures.ts';
import { freePort } from '../support/free-port.ts';
import {
  makeTempDir,
  openTestStore,
  runCli,
  type SpawnedGateway,
  seedSandbox,
  spawnGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { deliverReq, postMm7, statusCodeOf } from '../support/mm7-requests.ts';
import { type ApiMessage, api, PIPELINE_ENV, waitForFinal } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Gateway A relays to gateway B (two real gateway processes): A has a `telnyx` connector pointing at
 * B's /v2 with B's API key and B's webhook public key; B signs its webhooks back to A's
 * /connectors/up/webhooks, which A verifies and turns into its own signed webhooks to its customer.
 */

const CONNECTOR = 'up';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dirA: string;
let dirB: string;
let a: SpawnedGateway;
let b: SpawnedGateway;
let gwA: TestGateway;
let gwB: TestGateway;
let publicA: string;
let keyA: string;
let keyB: string;
let receiver: WebhookReceiver;
let media: Awaited<ReturnType<typeof startMediaServer>>;
let storeA: Store;
let storeB: Store;
let sandboxNumbers: string[];
let orgB: string;
const image = makePng(4000, 3);

before(async () => {
  dirA = makeTempDir();
  dirB = makeTempDir();
  publicA = `http://127.0.0.1:${await freePort()}`;
  const sbA = await seedSandbox(dirA);
  const sbB = await seedSandbox(dirB);
  sandboxNumbers = sbA.numbers;
  orgB = sbB.organizationId;
  // The sandbox numbers are the same in both: at B they are A's sender numbers and A's inbound ones.
  assert.deepEqual(sbB.numbers, sbA.numbers);
  receiver = await startWebhookReceiver({ keepRequests: true });
  media = await startMediaServer();
  media.routes.set('/photo.png', serve('image/png', image));

  const now = new Date().toISOString();
  const seedB = await openTestStore(dirB);
  try {
    const profile = await seedB.profiles.get(sbB.organizationId, sbB.profileId);
    const webhook_url = `${publicA}/connectors/${CONNECTOR}/webhooks`;
    await seedB.profiles.update(sbB.organizationId, sbB.profileId, { ...profile!.data, webhook_url }, now);
    await seedB.connectors.add({
      name: 'mmsc',
      type: 'mm7',
      settings: { url: 'http://127.0.0.1:9/unused', mm7Version: 'REL-6-MM7-1-4', defaultCountry: 'US' },
      created_at: now,
      updated_at: now,
    });
    keyB = (await publishedSigningKeys(seedB, orgB)).public_key;
  } finally {
    await seedB.close();
  }
  const seedA = await openTestStore(dirA);
  try {
    const profile = await seedA.profiles.get(sbA.organizationId, sbA.profileId);
    await seedA.profiles.update(
      sbA.organizationId,
      sbA.profileId,
      { ...profile!.data, webhook_url: receiver.url },
      now,
    );
    await seedA.routes.set({ messaging_profile_id: sbA.profileId, connectors: [CONNECTOR], updated_at: now });
  } finally {
    await seedA.close();
  }

  // B's webhook key as B publishes it (checked against GET /v2/public_key below); the two gateways
  // and the CLI start together.
  const urlB = `http://127.0.0.1:${await freePort()}`;
  const [spawnedB, spawnedA, added] = await Promise.all([
    spawnGateway({ dataDir: dirB, env: { ...PIPELINE_ENV, LOG_LEVEL: 'warn', PORT: new URL(urlB).port } }),
    spawnGateway({
      dataDir: dirA,
      env: { ...PIPELINE_ENV, LOG_LEVEL: 'warn', PORT: new URL(publicA).port, PUBLIC_URL: publicA },
    }),
    runCli(
      [
        ...['connectors', 'add', CONNECTOR, '--type', 'telnyx', '--api-key', sbB.apiKey],
        ...['--public-key', keyB, '--base-url', `${urlB}/v2`, '--json'],
      ],
      { DATA_DIR: dirA, PUBLIC_URL: publicA, LOG_LEVEL: 'silent' },
    ),
  ]);
  b = spawnedB;
  a = spawnedA;
  assert.equal(added.code, 0, added.stderr);
  assert.ok(!added.stdout.includes(sbB.apiKey), 'the API key is never printed');
  const shown = JSON.parse(added.stdout) as { connector: { settings: Record<string, unknown> } };
  assert.equal(shown.connector.settings.apiKeySet, true);
  assert.equal(shown.connector.settings.publicKey, keyB);
  gwB = { url: b.url, apiKey: sbB.apiKey } as TestGateway;
  assert.equal(
    (await api<{ data: { public_key: string } }>(gwB, 'GET', '/v2/public_key')).body.data.public_key,
    keyB,
  );
  gwA = { url: a.url, apiKey: sbA.apiKey } as TestGateway;
  keyA = (await api<{ data: { public_key: string } }>(gwA, 'GET', '/v2/public_key')).body.data.public_key;
  storeA = await openTestStore(dirA);
  storeB = await openTestStore(dirB);
});

after(async () => {
  for (const g of [a, b]) {
    if (g) {
      g.kill('SIGTERM');
      await g.exited;
    }
  }
  await storeA?.close();
  await storeB?.close();
  await receiver?.close();
  await media?.close();
  for (const d of [dirA, dirB]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

interface Verified {
  data: {
    id: string;
    event_type: string;
    occurred_at: string;
    payload: {
      id: string;
      group_message_id?: string;
      to: Array<{ phone_number: string; status: string }>;
      cc: Array<{ phone_number: string }>;
      from: { phone_number: string };
      text: string;
      errors: Array<{ code: string; title: string; detail?: string }>;
      media: Array<{ url: string; hash_sha256: string }>;
    };
  };
}

/** Every request the customer's receiver got, each verified with A's key by the official SDK. */
async function verifiedEvents(): Promise<Verified[]> {
  const sdk = new Telnyx({ apiKey: 'x' });
  const out: Verified[] = [];
  for (const r of receiver.received) {
    out.push(
      (await sdk.webhooks.unwrap(r.rawBody, { headers: r.headers, key: keyA })) as unknown as Verified,
    );
  }
  return out;
}

test('a group MMS with an image sent to A with the SDK goes through B; B’s outcomes come back as A’s own signed webhooks', async () => {
  const delivered = '+13125550100';
  const failed = '+13125550101'; // B's simulator: delivery_failed 40008
  const refused = '+13125550102'; // B's simulator: sending_failed 40001 at submit
  const client = new Telnyx({ apiKey: gwA.apiKey, baseURL: `${a.url}/v2`, maxRetries: 0 });
  const sent = await client.messages.sendGroupMms({
    from: sandboxNumbers[0]!,
    to: [delivered, failed, refused],
    text: 'Relayed through B',
    subject: 'Upstream',
    media_urls: [media.url('/photo.png')],
  });
  const groupId = sent.data!.id!;

  const atA = await waitForFinal(gwA, groupId, 30_000);
  const statusAtA = Object.fromEntries(atA.to.map((r) => [r.phone_number, r.status]));
  assert.deepEqual(statusAtA, {
    [delivered]: 'delivered',
    [failed]: 'delivery_failed',
    [refused]: 'sending_failed',
  });

  // It reached B's simulator as one group, with the image B fetched from A's own /media link.
  const recordA = await storeA.messages.get(groupId);
  const upstreamIds = new Set(recordA!.recipients.map((r) => r.carrier_message_id));
  assert.equal(upstreamIds.size, 1, 'one upstream message id for the whole group');
  const upstreamId = [...upstreamIds][0]!;
  const atB = await storeB.messages.get(upstreamId);
  assert.ok(atB, 'the upstream id is B’s group message id');
  assert.equal(atB.message.from_number, sandboxNumbers[0]);
  assert.equal(atB.message.text, 'Relayed through B');
  assert.equal(atB.message.subject, 'Upstream');
  assert.deepEqual(
    atB.message.media.map((m) => [m.url, m.sha256]),
    [[`${publicA}/media/${sha256(image)}`, sha256(image)]],
  );
  assert.equal(atB.message.webhook_url, `${publicA}/connectors/${CONNECTOR}/webhooks`);
  const simulated = (await storeB.simulator.list()).filter((s) => s.idempotency_key === upstreamId);
  assert.deepEqual(simulated.map((s) => s.phone_number).sort(), [delivered, failed]);

  // The same failures, with the same codes, at A as at B.
  const groupAtB = (await api<{ data: ApiMessage[] }>(gwB, 'GET', `/v2/messages/group/${upstreamId}`)).body
    .data;
  const statusAtB = Object.fromEntries(groupAtB.map((r) => [r.to[0]!.phone_number, r.to[0]!.status]));
  assert.deepEqual(statusAtB, statusAtA);
  const errorsAt = (rs: typeof recordA) =>
    Object.fromEntries(rs!.recipients.map((r) => [r.phone_number, r.errors.map((e) => e.code)]));
  assert.deepEqual(errorsAt(recordA), { [delivered]: [], [failed]: ['40008'], [refused]: ['40001'] });
  assert.deepEqual(errorsAt(atB), errorsAt(recordA));

  // A's customer: signed by A, message.sent before message.finalized for each recipient B sent.
  const events = await waitFor(
    async () => {
      const all = (await verifiedEvents()).filter((e) => e.data.payload.group_message_id === groupId);
      return all.filter((e) => e.data.event_type === 'message.finalized').length === 3 ? all : null;
    },
    { timeoutMs: 30_000, description: 'three message.finalized at the customer' },
  );
  // Deliveries run concurrently (as Telnyx's: "events can be ... delivered out of order"), so the
  // order is the one A recorded them in: its event ids are UUIDv7, in creation order on a node.
  const forNumber = (n: string) =>
    events
      .filter((e) => e.data.payload.to[0]!.phone_number === n)
      .sort((x, y) => (x.data.id < y.data.id ? -1 : 1));
  for (const n of [delivered, failed]) {
    assert.deepEqual(
      forNumber(n).map((e) => e.data.event_type),
      ['message.sent', 'message.finalized'],
      `events of ${n}`,
    );
    assert.equal(forNumber(n)[0]!.data.payload.to[0]!.status, 'sent');
  }
  assert.deepEqual(
    forNumber(refused).map((e) => e.data.event_type),
    ['message.finalized'],
  );
  const finalOf = (n: string) =>
    forNumber(n).find((e) => e.data.event_type === 'message.finalized')!.data.payload;
  assert.equal(finalOf(delivered).to[0]!.status, 'delivered');
  assert.equal(finalOf(failed).to[0]!.status, 'delivery_failed');
  assert.equal(finalOf(failed).errors[0]!.code, '40008');
  assert.equal(finalOf(refused).to[0]!.status, 'sending_failed');
  assert.equal(finalOf(refused).errors[0]!.code, '40001');
  // What A applied: B's five signed events (two message.sent, three message.finalized), verified.
  // (A late message.sent from B may still be on its way after an overtaking final one.)
  await waitFor(async () => (await storeA.upstreamWebhookEvents.count(CONNECTOR)) === 5, {
    description: 'five upstream events applied at A',
  });
  for (const e of events) {
    assert.ok(e.data.payload.id !== upstreamId, 'A’s customer sees A’s ids, not B’s');
  }
});

test('an inbound group message injected at B reaches A’s customer as message.received with cc', async () => {
  const ours = sandboxNumbers[1]!;
  const picture = makePng(2500, 9);
  const res = await postMm7(
    `${b.url}/mm7/mmsc`,
    deliverReq({
      from: '13125556666',
      to: [ours],
      cc: ['+13125558888'],
      subject: 'Group reply',
      text: 'See you there',
      image: { contentType: 'image/png', bytes: picture },
    }),
  );
  assert.equal(res.status, 200, res.text);
  assert.equal(statusCodeOf(res.text), 1000);

  const received = await waitFor(
    async () =>
      (await verifiedEvents()).find(
        (e) => e.data.event_type === 'message.received' && e.data.payload.text === 'See you there',
      ),
    { timeoutMs: 30_000, description: 'message.received at A’s customer' },
  );
  const p = received.data.payload;
  assert.equal(p.from.phone_number, '+13125556666');
  assert.deepEqual(
    p.to.map((t) => t.phone_number),
    [ours],
  );
  assert.deepEqual(
    p.cc.map((c) => c.phone_number),
    ['+13125558888'],
  );
  // A fetched the picture from B and serves it from its own media link.
  assert.equal(p.media.length, 1);
  assert.equal(p.media[0]!.hash_sha256, sha256(picture));
  assert.ok(p.media[0]!.url.startsWith(`${publicA}/media/`), p.media[0]!.url);
  const fetched = Buffer.from(await (await fetch(`${a.url}/media/${sha256(picture)}`)).arrayBuffer());
  assert.ok(fetched.equals(picture));
});

/** A message.received event as B would sign it, for the refusal test. */
function inboundEvent(eventId: string, text: string): string {
  return JSON.stringify({
    data: {
      event_type: 'message.received',
      id: eventId,
      occurred_at: new Date().toISOString(),
      record_type: 'event',
      payload: {
        id: randomUUID(),
        direction: 'inbound',
        type: 'SMS',
        from: { phone_number: '+13125557171' },
        to: [{ phone_number: sandboxNumbers[2] ?? sandboxNumbers[0] }],
        cc: [],
        text,
        media: [],
      },
    },
    meta: { attempt: 1, delivered_to: `${publicA}/connectors/${CONNECTOR}/webhooks` },
  });
}

async function postUpstream(body: string, headers: object, name = CONNECTOR) {
  const res = await fetch(`${a.url}/connectors/${name}/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(headers as Record<string, string>) },
    body,
  });
  return { status: res.status, body: await res.text() };
}

test('a forged, stale, unsigned or replayed upstream webhook at A is refused and changes nothing', async () => {
  const signB: Signer = await upstreamSigner();
  const forger = createSigner(generateSigningKeyPair().privateKeyPem);
  const seconds = () => Math.floor(Date.now() / 1000);

  const snapshot = async () => ({
    seen: await storeA.upstreamWebhookEvents.count(CONNECTOR),
    receipts: (await storeA.inboundReceipts.list(1000)).length,
    customerRequests: receiver.received.length,
  });

  // The control: a well-signed fresh event is applied (so the refusals below could have changed things).
  const firstId = randomUUID();
  const first = inboundEvent(firstId, 'applied once');
  const before0 = await snapshot();
  const ok = await postUpstream(first, signB(first, seconds()));
  assert.equal(ok.status, 200, ok.body);
  await waitFor(async () => (await verifiedEvents()).find((e) => e.data.payload.text === 'applied once'), {
    description: 'the control event at the customer',
  });
  const applied = await snapshot();
  assert.equal(applied.seen, before0.seen + 1);
  assert.equal(applied.receipts, before0.receipts + 1);

  const fresh = inboundEvent(randomUUID(), 'must never arrive');
  const tampered = signB(fresh, seconds());
  const attempts: Array<[string, string, object]> = [
    ['unsigned', fresh, {}],
    ['signed by another key', fresh, forger(fresh, seconds())],
    ['body changed after signing', fresh.replace('must never arrive', 'must never arrive!'), tampered],
    ['stale (6 minutes old)', fresh, signB(fresh, seconds() - 360)],
    ['from the future', fresh, signB(fresh, seconds() + 360)],
    ['replayed as sent', first, signB(first, seconds())],
    [
      'replayed with a new text',
      inboundEvent(firstId, 'must never arrive'),
      signB(inboundEvent(firstId, 'must never arrive'), seconds()),
    ],
    [
      'garbage signature',
      fresh,
      { 'telnyx-signature-ed25519': 'AAAA', 'telnyx-timestamp': String(seconds()) },
    ],
  ];
  for (const [what, body, headers] of attempts) {
    const res = await postUpstream(body, headers);
    assert.ok(res.status >= 400 && res.status < 500, `${what}: answered ${res.status} ${res.body}`);
  }
  // Unknown connector and a connector of another type: 404.
  assert.equal((await postUpstream(fresh, signB(fresh, seconds()), 'nobody')).status, 404);
  assert.equal((await postUpstream(fresh, signB(fresh, seconds()), 'simulator')).status, 404);
  // A signed body that is not an event: 400, not 500.
  const junk = '{"data":{"event_type":"message.finalized","id":"x","payload":{"to":"nope"}}}';
  assert.equal((await postUpstream(junk, signB(junk, seconds()))).status, 400);
  const notJson = 'not json';
  assert.equal((await postUpstream(notJson, signB(notJson, seconds()))).status, 400);

  // Give any wrongly accepted work time to show: the workers poll every 20 ms. Then nothing changed.
  const control = inboundEvent(randomUUID(), 'second control');
  assert.equal((await postUpstream(control, signB(control, seconds()))).status, 200);
  await waitFor(async () => (await verifiedEvents()).find((e) => e.data.payload.text === 'second control'), {
    description: 'the second control event at the customer',
  });
  const end = await snapshot();
  assert.equal(end.seen, applied.seen + 1, 'only the second control was recorded');
  assert.equal(end.receipts, applied.receipts + 1);
  const texts = (await verifiedEvents()).map((e) => e.data.payload.text);
  assert.equal(texts.filter((t) => t === 'applied once').length, 1);
  assert.equal(texts.filter((t) => t?.startsWith('must never arrive')).length, 0);
});

/** B's current signing key (the upstream's), read from B's store as B's webhook worker does. */
async function upstreamSigner(): Promise<Signer> {
  const rows = await storeB.organizationSigningKeys.listUnretired(orgB, new Date().toISOString());
  const row = rows.find((r) => r.public_key === keyB);
  assert.ok(row, 'B’s published key is in B’s store');
  return createSigner(row.private_key_pem);
}
