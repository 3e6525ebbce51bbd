import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw.close());

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000105fe02fea70000000049454e44ae426082',
  'hex',
);

test('stored media is served at /media/<sha256> with its sniffed type, without an API key', async () => {
  const sha = createHash('sha256').update(PNG).digest('hex');
  await createFileMediaStore(path.join(gw.dataDir, 'media')).put(PNG, sha);
  const res = await fetch(`${gw.url}/media/${sha}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), PNG);
});

test('an unknown or malformed media address is a 404 in Telnyx error shape', async () => {
  for (const key of ['0'.repeat(64), 'not-a-hash', `${'a'.repeat(63)}G`]) {
    const res = await fetch(`${gw.url}/media/${key}`);
    assert.equal(res.status, 404, key);
    const body = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(body.errors[0]?.code, '10005');
  }
});
