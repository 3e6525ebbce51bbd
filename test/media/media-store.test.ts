import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { createFileMediaStore, type MediaStore } from '../../src/media/media-store.ts';

let dir: string;
let store: MediaStore;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-store-'));
  store = createFileMediaStore(dir);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('put stores the bytes under their hash; has and read find them', async () => {
  const bytes = Buffer.from('hello media');
  const key = sha256(bytes);
  assert.equal(await store.has(key), false);
  const path = await store.put(bytes, key);
  assert.ok(path.startsWith(dir));
  assert.ok(path.endsWith(key));
  assert.deepEqual(await readFile(path), bytes);
  assert.equal(await store.has(key), true);
  assert.deepEqual(await store.read(key), bytes);
});

test('put is idempotent, including concurrent puts, and leaves no temp files', async () => {
  const bytes = Buffer.alloc(200_000, 7);
  const key = sha256(bytes);
  const paths = await Promise.all([store.put(bytes, key), store.put(bytes, key), store.put(bytes, key)]);
  assert.equal(new Set(paths).size, 1);
  assert.equal(await store.put(bytes, key), paths[0]);
  assert.deepEqual(await readdir(dirname(paths[0]!)), [key]);
  assert.deepEqual(await store.read(key), bytes);
});

test('put refuses bytes that do not match the hash', async () => {
  const key = sha256(Buffer.from('one'));
  await assert.rejects(store.put(Buffer.from('two'), key), /hash to/);
  assert.equal(await store.has(key), false);
});

test('keys that are not sha256 hex are refused (no path traversal)', async () => {
  for (const key of ['../../etc/passwd', 'ABC', `${'a'.repeat(63)}/`, 'A'.repeat(64)]) {
    await assert.rejects(store.read(key), /Invalid media key/);
    await assert.rejects(store.has(key), /Invalid media key/);
  }
});

test('reading a missing hash rejects', async () => {
  await assert.rejects(store.read('0'.repeat(64)), { code: 'ENOENT' });
});
