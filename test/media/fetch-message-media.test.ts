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

  // Fetched at the same time, so either one may be the one that crosses the shared limit.
  const result = await fetchMessageMedia([server.url('/600a.png'), server.url('/600b.png')], opts);
  assert.ok(!result.ok);
  assert.equal(result.error.code, '40317');
  assert.match(
    result.error.detail,
    /600[ab]\.png is too large: the total media size must be less than 1000000 bytes/,
  );
  assert.ok(result.media.some((m) => m === null));
  assert.ok(sha256(first) !== sha256(second));
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
  assert.equal(result.media[1], null);
});

test('a URL that cannot be fetched (404) fails with 40317 naming the URL and the reason', async () => {
  const result = await fetchMessageMedia([server.url('/gone.png'), server.url('/photo.png')], opts);
  assert.ok(!result.ok);
  assert.equal(result.error.code, '40317');
  assert.match(result.error.detail, /gone\.png could not be fetched \(http_status\): HTTP 404/);
  assert.equal(result.media[0], null);
});

test('a private address without an allow-list fails with 40317 (blocked_address)', async () => {
  const strict = createOutboundDispatcher({ allowCidrs: [], connectTimeoutMs: 2_000 });
  try {
    const result = await fetchMessageMedia([server.url('/photo.png')], { ...opts, dispatcher: strict });
    assert.ok(!result.ok);
    assert.match(result.error.detail, /blocked_address\): destination not allowed/);
    // The tenant is not told the address the name resolved to; the operator's log is.
    assert.doesNotMatch(result.error.detail, /127\.0\.0\.1:\d+\)|\(127\.0\.0\.1\)/);
    assert.match(result.error.operatorDetail ?? '', /127\.0\.0\.1/);
  } finally {
    await strict.close();
  }
});

test('no media is fine', async () => {
  assert.deepEqual(await fetchMessageMedia([], opts), { ok: true, media: [] });
});

test('one time budget for the whole message: ten URLs that never answer end together, at most four at a time', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const hanging: Array<() => void> = [];
  for (let i = 0; i < 10; i++) {
    server.routes.set(`/never-${i}.png`, (_req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      hanging.push(() => res.destroy());
      res.on('close', () => {
        inFlight--;
      });
    });
  }
  const urls = Array.from({ length: 10 }, (_, i) => server.url(`/never-${i}.png`));
  const started = Date.now();
  const result = await fetchMessageMedia(urls, {
    ...opts,
    headersTimeoutMs: 60_000,
    bodyTimeoutMs: 60_000,
    totalTimeoutMs: 1_000,
  });
  const elapsed = Date.now() - started;
  for (const close of hanging) close();
  assert.ok(!result.ok);
  assert.match(result.error.detail, /not all fetched within 1000 ms/);
  // Fetched one after another with a per-URL limit, this took 10 × the limit (the issue: ~300 s).
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  assert.equal(maxInFlight, 4);
  assert.deepEqual(result.media, Array(10).fill(null));
});

test('several URLs are fetched at the same time (each stalls until all four have arrived)', async () => {
  const waiting: Array<() => void> = [];
  for (let i = 0; i < 4; i++) {
    const png = makePng(200 + i, i);
    server.routes.set(`/together-${i}.png`, (_req, res) => {
      waiting.push(() => serve('image/png', png)(_req, res));
      if (waiting.length === 4) for (const go of waiting) go();
    });
  }
  const urls = Array.from({ length: 4 }, (_, i) => server.url(`/together-${i}.png`));
  const result = await fetchMessageMedia(urls, opts);
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(
    result.media.map((m) => m.size),
    [200, 201, 202, 203],
  );
});
