import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Telnyx from 'telnyx';
import { ERRORS } from '../../src/errors/catalogue.ts';
import { createTenant, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The per-organization queue cap: an API-only gateway (no worker), so accepted messages stay queued.
 * With MAX_QUEUED_MESSAGES_PER_ORGANIZATION=3 the fourth send is refused with 40318, HTTP 429 and a
 * Retry-After header, and nothing of it is stored; another organization is not affected.
 */

const CAP = 3;
let gw: TestGateway;
let client: Telnyx;

before(async () => {
  gw = await startTestGateway({ env: { MAX_QUEUED_MESSAGES_PER_ORGANIZATION: String(CAP) } });
  client = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0, timeout: 10_000 });
});

after(async () => {
  await gw?.close();
});

const body = (i: number) => ({ from: gw.numbers[0]!, to: [`+1312555${6000 + i}`], text: `queued ${i}` });

async function post(payload: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function stored() {
  const messages = await gw.store.messages.listForOrganization(gw.organizationId, {}, 100);
  return { messages: messages.length, jobs: await gw.store.jobs.count('message.send') };
}

test('past the cap a send is refused with 40318, 429 and Retry-After, and nothing is stored', async () => {
  for (let i = 0; i < CAP; i++) assert.equal((await post(body(i))).status, 200);
  const before = await stored();
  assert.deepEqual(before, { messages: CAP, jobs: CAP });

  const refused = await post(body(CAP), { 'idempotency-key': 'over-the-cap' });
  assert.equal(refused.status, 429);
  const [error, ...more] = (refused.json as { errors: Array<Record<string, unknown>> }).errors;
  assert.deepEqual(more, []);
  assert.deepEqual(
    { code: error!.code, title: error!.title, detail: error!.detail },
    { code: '40318', title: ERRORS['40318'].title, detail: ERRORS['40318'].detail },
  );
  assert.equal(ERRORS['40318'].title, 'Message queue full');
  const retryAfter = refused.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');

  assert.deepEqual(await stored(), before, 'no message, recipient or job stored');
  const since = new Date(Date.now() - 60_000).toISOString();
  assert.equal(
    await gw.store.idempotency.find(gw.organizationId, 'over-the-cap', since),
    undefined,
    'the idempotency key is not taken',
  );

  // The official SDK sees a RateLimitError carrying the Telnyx code.
  await assert.rejects(client.messages.sendGroupMms(body(CAP + 1)), (err: unknown) => {
    assert.ok(err instanceof Telnyx.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.equal((err.error as { errors: Array<{ code: string }> }).errors[0]?.code, '40318');
    return true;
  });

  // Bad input is still told apart from a full queue.
  const bad = await post({ from: gw.numbers[0]!, to: [], text: 'x' });
  assert.equal(bad.status, 400);
});

test('the cap is per organization, and a drained queue takes sends again', async () => {
  // Another organization, with nothing queued, is not held by the first one's full queue.
  const other = await createTenant(gw.store);
  const theirs = await fetch(`${gw.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${other.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: other.numbers[0], to: ['+13125556100'], text: 'not full' }),
  });
  assert.equal(theirs.status, 200);
  assert.equal((await post(body(50))).status, 429, 'the first organization is still full');

  // The worker role would take the queued sends; here the queue is drained by hand, as one would.
  const jobs = await gw.store.jobs.claim('test-drain', 100, 60_000, undefined, { queue: 'message.send' });
  const mine = jobs.filter((j) => j.fair_key === gw.organizationId);
  assert.equal(mine.length, CAP);
  for (const j of jobs) await gw.store.jobs.complete(j, 'test-drain');
  // A count at the cap is trusted for a second at most.
  await waitFor(async () => (await post(body(100))).status === 200, { description: 'a send accepted again' });
});
