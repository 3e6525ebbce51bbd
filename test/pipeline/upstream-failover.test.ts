import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import { type BandwidthEmulator, startBandwidthEmulator } from '../../src/bandwidth-emulator/emulator.ts';
import type { ReceivedSubmit, SubmitAnswer } from '../../src/bandwidth-emulator/types.ts';
import type { Store } from '../../src/store/store.ts';
import { publishedSigningKeys } from '../../src/webhooks/organization-signing-keys.ts';
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
import {
  type ApiMessage,
  api,
  getDeliveries,
  PIPELINE_ENV,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Failover between the two upstream connectors: gateway A's profile is routed [bw, up] — `bw` a
 * Bandwidth connector pointing at the Bandwidth emulator, `up` a Telnyx-compatible connector
 * pointing at gateway B (a second real gateway process). The emulator is scripted through its
 * control API (503, 400) and says what it received. A's customer is the official SDK with a real
 * webhook receiver. Between A and B sits a transparent tap that, at the moment A's submit reaches
 * B, reads A's send job for that message: failing over happens in the same job run (no retry).
 */

const FAILURES = 3;
const COOLDOWN_MS = 2000;
const ACCOUNT = '9900002';
const APPLICATION = 'a1b2c3d4-0000-4000-8000-000000000002';
const CLIENT_ID = 'failover-client';
const CLIENT_SECRET = 'cs-failover-never-shown';
const CB_USER = 'bandwidth';
const CB_PASSWORD = 'cb-failover-never-shown';

let dirA: string;
let dirB: string;
let a: SpawnedGateway;
let b: SpawnedGateway;
let gwA: TestGateway;
let publicA: string;
let keyA: string;
let storeA: Store;
let storeB: Store;
let bw: BandwidthEmulator;
let receiver: WebhookReceiver;
let tap: http.Server;
let client: Telnyx;
let sender: string;
/** What reached B through the tap: A's message id (the idempotency key) and its send job's retries then. */
const relayed: Array<{ messageId: string; jobRetries: number[] }> = [];
/** A fresh ordinary recipient per message (both sides deliver it). */
let nextNumber = 0;
const freshNumber = () => `+1312555${String(6000 + nextNumber++).padStart(4, '0')}`;

/** Forwards everything to B unchanged; for A's submits, first notes A's send job as it is right now. */
async function startTap(urlB: string): Promise<string> {
  tap = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const key = req.headers['idempotency-key'];
        if (req.method === 'POST' && req.url?.endsWith('/messages/group_mms') && typeof key === 'string') {
          const jobs = await storeA.jobs.findByPayload('message.send', 'messageId', key);
          relayed.push({ messageId: key, jobRetries: jobs.map((j) => j.retries) });
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(
            (e): e is [string, string] =>
              typeof e[1] === 'string' && !['host', 'connection', 'content-length'].includes(e[0]),
          ),
        );
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        const answer = await fetch(`${urlB}${req.url}`, { method: req.method, headers, body });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      } catch (err) {
        res.writeHead(502).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => tap.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(tap.address() as AddressInfo).port}`;
}

before(async () => {
  dirA = makeTempDir();
  dirB = makeTempDir();
  publicA = `http://127.0.0.1:${await freePort()}`;
  const urlB = `http://127.0.0.1:${await freePort()}`;
  const sbA = await seedSandbox(dirA);
  const sbB = await seedSandbox(dirB);
  // The sandbox numbers are the same in both: A's sender numbers are B's too.
  assert.deepEqual(sbB.numbers, sbA.numbers);
  sender = sbA.numbers[0]!;
  receiver = await startWebhookReceiver({ keepRequests: true });
  bw = await startBandwidthEmulator({
    accountId: ACCOUNT,
    applicationId: APPLICATION,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    callbackUrl: `${publicA}/connectors/bw/callbacks`,
    callbackUsername: CB_USER,
    callbackPassword: CB_PASSWORD,
    callbackDelayMs: 0,
    callbackRetryMs: 50,
    callbackRetryMaxMs: 400,
  });

  const now = new Date().toISOString();
  const seedB = await openTestStore(dirB);
  let keyB: string;
  try {
    keyB = (await publishedSigningKeys(seedB, sbB.organizationId)).public_key;
  } finally {
    await seedB.close();
  }
  storeA = await openTestStore(dirA);
  storeB = await openTestStore(dirB);
  const profile = await storeA.profiles.get(sbA.organizationId, sbA.profileId);
  await storeA.profiles.update(
    sbA.organizationId,
    sbA.profileId,
    { ...profile!.data, webhook_url: receiver.url },
    now,
  );
  const tapUrl = await startTap(urlB);

  // The route as `routes set --profile … --connectors bw,up` writes it; the connectors themselves
  // are added with the CLI while the gateways start (A reads both per message: CONNECTOR_CACHE_MS=0).
  await storeA.routes.set({ messaging_profile_id: sbA.profileId, connectors: ['bw', 'up'], updated_at: now });
  const cliEnv = { DATA_DIR: dirA, PUBLIC_URL: publicA, LOG_LEVEL: 'silent' };
  const addConnectors = async () => {
    const added = await Promise.all([
      runCli(
        [
          ...['connectors', 'add', 'bw', '--type', 'bandwidth', '--account-id', ACCOUNT],
          ...['--application-id', APPLICATION, '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET],
          ...['--base-url', bw.baseUrl, '--token-url', bw.tokenUrl],
          ...['--callback-username', CB_USER, '--callback-password', CB_PASSWORD],
        ],
        cliEnv,
      ),
      runCli(
        [
          ...['connectors', 'add', 'up', '--type', 'telnyx', '--api-key', sbB.apiKey],
          ...['--public-key', keyB, '--base-url', `${tapUrl}/v2`],
        ],
        cliEnv,
      ),
    ]);
    for (const r of added) assert.equal(r.code, 0, r.stderr);
  };
  const [spawnedB, spawnedA] = await Promise.all([
    spawnGateway({ dataDir: dirB, env: { ...PIPELINE_ENV, LOG_LEVEL: 'warn', PORT: new URL(urlB).port } }),
    spawnGateway({
      dataDir: dirA,
      env: {
        ...PIPELINE_ENV,
        LOG_LEVEL: 'warn',
        PORT: new URL(publicA).port,
        PUBLIC_URL: publicA,
        CONNECTOR_CACHE_MS: '0',
        CONNECTOR_BREAKER_FAILURES: String(FAILURES),
        CONNECTOR_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      },
    }),
    addConnectors(),
  ]);
  b = spawnedB;
  a = spawnedA;
  gwA = { url: a.url, apiKey: sbA.apiKey } as TestGateway;
  keyA = (await api<{ data: { public_key: string } }>(gwA, 'GET', '/v2/public_key')).body.data.public_key;
  client = new Telnyx({ apiKey: sbA.apiKey, baseURL: `${a.url}/v2`, maxRetries: 0 });
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
  await bw?.close();
  await receiver?.close();
  if (tap) await new Promise<void>((resolve) => tap.close(() => resolve()));
  for (const d of [dirA, dirB]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** The emulator's control API, as an operator scripts it. */
async function control<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(`/control/${path}`, bw.url), {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as T;
}

const answerNext = (answer: SubmitAnswer) => control('POST', 'answers', answer);
const allSubmits = async () => (await control<{ submits: ReceivedSubmit[] }>('GET', 'submits')).submits;
const bandwidthSubmitsFor = async (messageId: string) =>
  (await allSubmits()).filter((s) => (s.body as { tag?: string } | undefined)?.tag === messageId);
const relayedFor = (messageId: string) => relayed.filter((r) => r.messageId === messageId);

async function send(to: string, text: string): Promise<string> {
  const res = await client.messages.sendGroupMms({ from: sender, to: [to], text });
  return res.data!.id!;
}

/** The connector as A's extension views show it: the message list and the webhook-deliveries view. */
async function connectorAtA(id: string): Promise<string | null> {
  const list = await api<{ data: Array<ApiMessage & { connector: string | null }> }>(
    gwA,
    'GET',
    '/v2/messages?page[size]=100',
  );
  const listed = list.body.data.find((m) => m.id === id);
  assert.ok(listed, 'the message is listed at A');
  const deliveries = (await getDeliveries(gwA, id)) as Array<{ connector?: string | null }>;
  assert.ok(deliveries.length > 0, 'A recorded webhook deliveries');
  for (const d of deliveries) assert.equal(d.connector, listed.connector, 'same connector in both views');
  return listed.connector;
}

/** A's warn-level log lines (JSON, one a line) with this message. */
function loggedAtA(msg: string): Array<Record<string, unknown>> {
  return a
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg);
}

async function breaker() {
  const { now, states } = await storeA.breakers.states(['bw']);
  return { now, state: states.get('bw') };
}

const coolDownOver = () =>
  waitFor(
    async () => {
      const s = await breaker();
      return s.state?.open_until != null && s.now >= s.state.open_until;
    },
    { description: 'the breaker’s cool-down is over' },
  );

interface Verified {
  data: {
    id: string;
    event_type: string;
    payload: { group_message_id?: string; to: Array<{ phone_number: string; status: string }> };
  };
}

/**
 * A's customer's `count` webhooks about `groupId`, verified with A's key by the SDK, in the order A
 * recorded them (deliveries run concurrently; event ids are UUIDv7, in creation order on a node).
 */
async function customerEvents(groupId: string, count: number): Promise<Verified[]> {
  const sdk = new Telnyx({ apiKey: 'x' });
  return waitFor(
    async () => {
      const out: Verified[] = [];
      for (const r of receiver.received) {
        const e = (await sdk.webhooks.unwrap(r.rawBody, { headers: r.headers, key: keyA })) as unknown;
        if ((e as Verified).data.payload.group_message_id === groupId) out.push(e as Verified);
      }
      return out.length >= count && out.sort((x, y) => (x.data.id < y.data.id ? -1 : 1));
    },
    { timeoutMs: 30_000, description: `${count} webhooks about ${groupId} at the customer` },
  );
}

/** The message went out through B: B has it (by A's upstream id) and B's simulator delivered it. */
async function deliveredThroughB(id: string, to: string): Promise<void> {
  const final = await waitForFinal(gwA, id, 30_000);
  assert.equal(final.to[0]!.status, 'delivered');
  assert.deepEqual(final.errors, []);
  const upstreamId = (await storeA.messages.get(id))!.recipients[0]!.carrier_message_id;
  assert.ok(upstreamId, 'A recorded B’s message id');
  const atB = await storeB.messages.get(upstreamId);
  assert.ok(atB, 'B has the message');
  assert.equal(atB.recipients[0]!.phone_number, to);
  const simulated = (await storeB.simulator.list()).filter((s) => s.idempotency_key === upstreamId);
  assert.deepEqual(
    simulated.map((s) => s.phone_number),
    [to],
    'B’s simulator got it',
  );
  assert.equal(await connectorAtA(id), 'up');
  const events = await customerEvents(id, 2);
  assert.deepEqual(
    events.map((e) => [e.data.event_type, e.data.payload.to[0]!.status]),
    [
      ['message.sent', 'sent'],
      ['message.finalized', 'delivered'],
    ],
  );
}

test('Bandwidth answers 503: the message goes out through the Telnyx upstream (B) in the same job run', async () => {
  const to = freshNumber();
  await answerNext({ status: 503, retryAfterSeconds: 0 });
  const id = await send(to, 'bandwidth is down');
  await deliveredThroughB(id, to);

  const submits = await bandwidthSubmitsFor(id);
  assert.deepEqual(
    submits.map((s) => s.answer.status),
    [503],
    'Bandwidth saw exactly one attempt',
  );
  assert.deepEqual(relayedFor(id), [{ messageId: id, jobRetries: [0] }], 'B got it from the first run');
  assert.equal(await storeA.jobs.count('message.send'), 0, 'no send job is left waiting for a retry');
  const logged = loggedAtA('connector submit failed; trying the next connector of the route').filter(
    (l) => l.messageId === id,
  );
  assert.deepEqual(
    logged.map((l) => [l.connector, l.next, l.consecutiveFailures]),
    [['bw', 'up', 1]],
    'A logged the failover',
  );
  const s = await breaker();
  assert.equal(s.state?.consecutive_failures, 1);
  assert.equal(s.state?.open_until ?? null, null, 'one failure: the breaker stays closed');
});

test('Bandwidth answers 400: sending_failed with the mapped code, no failover, B receives nothing', async () => {
  const to = freshNumber();
  const failuresBefore = (await breaker()).state?.consecutive_failures ?? 0;
  await answerNext({
    status: 400,
    description: "'+1' must be replaced with a valid E164 formatted telephone number",
  });
  const text = 'refused by bandwidth';
  const id = await send(to, text);
  const final = await waitForFinal(gwA, id, 30_000);
  assert.equal(final.to[0]!.status, 'sending_failed');
  assert.equal(final.errors[0]?.code, '40009');
  assert.match(final.errors[0]?.detail ?? '', /Bandwidth HTTP 400: request-validation/);
  assert.deepEqual(
    (await bandwidthSubmitsFor(id)).map((s) => s.answer.status),
    [400],
  );
  assert.equal(await connectorAtA(id), 'bw');
  await waitFor(async () => (await storeA.jobs.count('message.send')) === 0, { description: 'job done' });
  assert.deepEqual(relayedFor(id), [], 'nothing was relayed to B');
  const atB = (await storeB.simulator.list()).filter((s) => s.phone_number === to);
  assert.deepEqual(atB, [], 'B’s simulator never saw it');
  const events = await customerEvents(id, 1);
  assert.deepEqual(
    events.map((e) => [e.data.event_type, e.data.payload.to[0]!.status]),
    [['message.finalized', 'sending_failed']],
  );
  assert.equal(
    (await breaker()).state?.consecutive_failures ?? 0,
    failuresBefore,
    'a permanent refusal does not count against the breaker',
  );
});

test('after enough 503s the breaker skips Bandwidth; after the cool-down one trial goes to Bandwidth again and closes it', async () => {
  // A success through Bandwidth starts the count over.
  const first = freshNumber();
  const okId = await send(first, 'bandwidth is fine');
  assert.equal((await waitForFinal(gwA, okId, 30_000)).to[0]!.status, 'delivered');
  assert.equal(await connectorAtA(okId), 'bw');
  assert.equal((await breaker()).state?.consecutive_failures ?? 0, 0);

  const failing: Array<{ id: string; to: string }> = [];
  for (let i = 0; i < FAILURES; i++) {
    const to = freshNumber();
    await answerNext({ status: 503, retryAfterSeconds: 0 });
    failing.push({ id: await send(to, `down ${i + 1}`), to });
    if (i < FAILURES - 1) await deliveredThroughB(failing[i]!.id, to);
  }
  // The last failure opens the breaker; the next message is sent at once, well inside the cool-down
  // (the checks of the last failed-over message come after it).
  const opened = await waitFor(
    async () => {
      const s = await breaker();
      return s.state?.open_until != null && s.state.open_until > s.now && s;
    },
    { description: 'the breaker is open' },
  );
  assert.equal(opened.state?.consecutive_failures, FAILURES);
  // Open: Bandwidth gets no request at all (it would have taken the message: nothing is scripted).
  const submitsBefore = (await allSubmits()).length;
  const skipped = freshNumber();
  const skippedId = await send(skipped, 'straight to B');

  for (const { id, to } of failing) {
    await deliveredThroughB(id, to);
    assert.deepEqual(
      (await bandwidthSubmitsFor(id)).map((s) => s.answer.status),
      [503],
      'one Bandwidth attempt',
    );
    assert.deepEqual(relayedFor(id), [{ messageId: id, jobRetries: [0] }]);
  }
  assert.deepEqual(
    loggedAtA('connector breaker opened').map((l) => [l.connector, l.cooldownMs]),
    [['bw', COOLDOWN_MS]],
  );

  await deliveredThroughB(skippedId, skipped);
  assert.equal((await allSubmits()).length, submitsBefore, 'no request to the Bandwidth emulator');
  assert.deepEqual(relayedFor(skippedId), [{ messageId: skippedId, jobRetries: [0] }]);

  // After the cool-down, one trial goes to Bandwidth, which is healthy now: delivered through it.
  await coolDownOver();
  const trial = freshNumber();
  const trialId = await send(trial, 'bandwidth is back');
  const final = await waitForFinal(gwA, trialId, 30_000);
  assert.equal(final.to[0]!.status, 'delivered');
  assert.equal(await connectorAtA(trialId), 'bw');
  assert.deepEqual(
    (await bandwidthSubmitsFor(trialId)).map((s) => s.answer.status),
    [202],
  );
  assert.deepEqual(relayedFor(trialId), [], 'B did not get the trial message');
  const closed = await breaker();
  assert.equal(closed.state?.consecutive_failures, 0);
  assert.equal(closed.state?.open_until, null, 'the breaker is closed');
  const events = await customerEvents(trialId, 2);
  assert.deepEqual(
    events.map((e) => [e.data.event_type, e.data.payload.to[0]!.status]),
    [
      ['message.sent', 'sent'],
      ['message.finalized', 'delivered'],
    ],
  );
});
