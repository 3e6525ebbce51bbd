import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTenant, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { api, sendGroupMms } from '../support/pipeline-gateway.ts';

/** `GET /v2/messages` (extension): newest first, filters, keyset pages, scoped to the organization. */

interface Page {
  data: Array<{
    id: string;
    text: string;
    from: { phone_number: string };
    to: Array<{ phone_number: string }>;
  }>;
  meta: { page_size: number; next_page_after: string | null };
}

let gw: TestGateway;
const ids: string[] = [];

before(async () => {
  gw = await startTestGateway();
  ids.push((await sendGroupMms(gw, { to: ['+13125550100'], text: 'first apple' })).id);
  ids.push((await sendGroupMms(gw, { from: gw.numbers[1], to: ['+13125550101'], text: 'second pear' })).id);
  ids.push((await sendGroupMms(gw, { to: ['+13125550100', '+13125550102'], text: 'third apple' })).id);
});
after(() => gw?.close());

const list = async (query: string) => {
  const res = await api<Page>(gw, 'GET', `/v2/messages${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};

test('newest first, two at a time, through next_page_after', async () => {
  const first = await list('?page[size]=2');
  assert.deepEqual(
    first.data.map((m) => m.id),
    [ids[2], ids[1]],
  );
  assert.ok(first.meta.next_page_after);
  const second = await list(`?page[size]=2&page[after]=${first.meta.next_page_after}`);
  assert.deepEqual(
    second.data.map((m) => m.id),
    [ids[0]],
  );
  assert.equal(second.meta.next_page_after, null);
});

test('filters: sender, recipient, status, text, dates, direction', async () => {
  const ofIds = (p: Page) => p.data.map((m) => m.id);
  assert.deepEqual(ofIds(await list(`?filter[from]=${encodeURIComponent(gw.numbers[1]!)}`)), [ids[1]]);
  assert.deepEqual(ofIds(await list('?filter[to]=%2B13125550100')), [ids[2], ids[0]]);
  assert.deepEqual(ofIds(await list('?filter[text][contains]=apple')), [ids[2], ids[0]]);
  assert.deepEqual(ofIds(await list('?filter[status]=queued')), [ids[2], ids[1], ids[0]]);
  assert.deepEqual(ofIds(await list('?filter[status]=delivered')), []);
  assert.deepEqual(ofIds(await list('?filter[received_at][lte]=2000-01-01T00:00:00Z')), []);
  assert.deepEqual(ofIds(await list('?filter[direction]=inbound')), []);
  assert.equal((await list('?filter[direction]=outbound')).data.length, 3);
});

test("another organization's list is its own; bad parameters get Telnyx errors", async () => {
  const other = await createTenant(gw.store);
  const res = await fetch(`${gw.url}/v2/messages`, { headers: { authorization: `Bearer ${other.apiKey}` } });
  assert.deepEqual(((await res.json()) as Page).data, []);
  for (const query of ['?page[size]=0', '?page[after]=bm9wZQ', '?filter[status]=lost']) {
    const bad = await api<{ errors: Array<{ code: string }> }>(gw, 'GET', `/v2/messages${query}`);
    assert.equal(bad.status, 400, query);
    assert.ok(bad.body.errors.length > 0);
  }
});
