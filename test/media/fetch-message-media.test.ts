import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FetchMessageMediaOptions, fetchMessageMedia } from '../../src/media/fetch-message-media.ts';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import { createOutboundDispatcher } from '../../src/net/outbound-guard.ts';
import { FAST, loopbackDispatcher, makePng, serve, startMediaServer, TINY_PNG } from './fixtures.ts';

let server: Awaited<ReturnType<typeof startMediaServer>>;
let dir: string;
let opts: FetchMessageMediaOptions;
const dispatcher = loopbackDispatcher();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

before(async () => {
  server = await startMediaServer();
  dir = await mkdtemp(join(tmpdir(), 'message-media-'));
  opts = { ...FAST, dispatcher, store: createFileMediaStore(dir) };
  server.routes.set('/photo.png', serve('image/png', TINY_PNG));
});

after(async () => {
  await dispatcher.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('a good PNG: type, size and sha256 are reported and the bytes stored', async () => {
  const result = await fetchMessageMedia([server.url('/photo.png')], opts);
  assert.deepEqual(result, {
    ok: true,
    media: [
      {
        url: server.url('/photo.png'),
        contentType: 'image/png',
        size: TINY_PNG.length,
        sha256: sha256(TINY_PNG),
      },
    ],
  });
  assert.deepEqual(await opts.store.read(sha256(TINY_PNG)), TINY_PNG);
});

test('a PNG served as application/octet-stream is sniffed as image/png', async () => {
  server.routes.set('/blob', serve('application/octet-stream', TINY_PNG));
  const result = await fetchMessageMedia([server.url('/blob')], opts);
  assert.ok(result.ok);
  assert.equal(result.media[0]?.contentType, 'image/png');
});

test('several media: all fetched in order, each stored', async () => {
  const second = makePng(5_000, 2);
  server.routes.set('/a.png', serve('image/png', TINY_PNG));
  server.routes.set('/b.png', serve('image/png', second));
  server.routes.set('/c.txt', serve('text/plain', Buffer.from('caption')));
  const result = await fetchMessageMedia(
    [server.url('/a.png'), server.url('/b.png'), server.url('/c.txt')],
    opts,
  );
  assert.ok(result.ok);
  assert.deepEqual(
    result.media.map((m) => [m.contentType, m.size]),
    [
      ['image/png', TINY_PNG.length],
      ['image/png', 5_000],
      ['text/plain', 7],
    ],
  );
  assert.equal(await opts.store.has(sha256(second)), true);
});

test('a 1.2 MB file fails the message with 40317', async () => {
  server.routes.set('/huge.png', serve('image/png', makePng(1_200_000)));
  const result = await fetchMessageMedia([server.url('/huge.png')], opts);
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.equal(result.error.code, '40317');
  assert.equal(result.error.title, 'Invalid MMS content');
  assert.match(result.error.detail, /huge\.png/);
  assert.match(result.error.detail, /less than 1000000 bytes/);
  assert.deepEqual(result.media, [null]);
});

test('two 600 KB images, each fine alone, fail together with 40317', async () => {
  const first = makePng(600_000, 1);
  const second = makePng(600_000, 2);
  server.routes.set('/600a.png', serve('image/png', first));
  server.routes.set('/600b.png', serve('image/png', second));
  assert.ok((await fetchMessageMedia([server.url('/600b.png')], opts)).ok);

  const result = await fetchMessageMedia([server.url('/600a.png'), server.url('/600b.png')], opts);
  assert.ok(!result.ok);
  assert.equal(result.error.code, '40317');
  assert.match(result.error.detail, /600b\.png/);
  assert.match(result.error.detail, /600000 bytes used by earlier media/);
  assert.equal(result.media[0]?.sha256, sha256(first));
  assert.equal(result.media[1], null);
});

test('the total must be strictly less than the limit', async () => {
  server.routes.set('/just-under.png', serve('image/png', makePng(999_999, 3)));
  server.routes.set('/exactly.png', serve('image/png', makePng(1_000_000, 4)));
  assert.ok((await fetchMessageMedia([server.url('/just-under.png')], opts)).ok);
  const result = await fetchMessageMedia([server.url('/exactly.png')], opts);
  assert.ok(!result.ok);
  assert.equal(result.error.code, '40317');
});

test('totalLimitBytes overrides the default budget', async () => {
  server.routes.set('/5k.png', serve('image/png', makePng(5_000, 5)));
  const result = await fetchMessageMedia([server.url('/5k.png')], { ...opts, totalLimitBytes: 4_000 });
  assert.ok(!result.ok);
  assert.match(result.error.detail, /less than 4000 bytes/);
});

test('a disallowed type (application/x-msdownload) fails with 40317', async () => {
  server.routes.set('/setup.exe', serve('application/x-msdownload', Buffer.from('MZ\x90\x00')));
  const result = await fetchMessageMedia([server.url('/photo.png'), server.url('/setup.exe')], opts);
  assert.ok(!result.ok);
  assert.equal(result.error.code, '40317');
  assert.match(result.error.detail, /setup\.exe.*application\/x-msdownload/);
  assert.notEqual(result.media[0], null);
  assert.equal(result.media[1], null);
});

test('a URL that cannot be fetched (404) fails with 40317 naming the URL and the reason', async () => {
  const result = await fetchMessageMedia([server.url('/gone.png'), server.url('/photo.png')], opts);
  assert.ok(!result.ok);
  assert.equal(result.error.code, '40317');
  assert.match(result.error.detail, /gone\.png could not be fetched \(http_status\): HTTP 404/);
  assert.deepEqual(result.media, [null, null]);
});

test('a private address without an allow-list fails with 40317 (blocked_address)', async () => {
  const strict = createOutboundDispatcher({ allowCidrs: [], connectTimeoutMs: 2_000 });
  try {
    const result = await fetchMessageMedia([server.url('/photo.png')], { ...opts, dispatcher: strict });
    assert.ok(!result.ok);
    assert.match(result.error.detail, /blocked_address/);
  } finally {
    await strict.close();
  }
});

test('no media is fine', async () => {
  assert.deepEqual(await fetchMessageMedia([], opts), { ok: true, media: [] });
});
