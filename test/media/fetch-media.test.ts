import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  type FetchedMedia,
  fetchMedia,
  type MediaFetchFailure,
  type MediaFetchFailureReason,
} from '../../src/media/fetch-media.ts';
import { createOutboundDispatcher } from '../../src/net/outbound-guard.ts';
import {
  FAST,
  loopbackDispatcher,
  makePng,
  redirect,
  serve,
  startMediaServer,
  TINY_PNG,
  writeUntilClosed,
} from './fixtures.ts';

let server: Awaited<ReturnType<typeof startMediaServer>>;
const dispatcher = loopbackDispatcher();
const opts = { ...FAST, dispatcher, maxBytes: 1_000_000 };

before(async () => {
  server = await startMediaServer();
});

after(async () => {
  await dispatcher.close();
  await server.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function assertFailure(
  result: FetchedMedia | MediaFetchFailure,
  reason: MediaFetchFailureReason,
): MediaFetchFailure {
  if (result.ok) assert.fail(`expected failure ${reason}, got success`);
  assert.equal(result.reason, reason, `expected ${reason}, got ${result.reason}: ${result.detail}`);
  return result;
}

/** Server-side observations must arrive promptly; a hang is a failure, not a stuck run. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test('a PNG comes back with its type, size, sha256 and bytes', async () => {
  server.routes.set('/ok.png', serve('image/png', TINY_PNG));
  const result = await fetchMedia(server.url('/ok.png'), opts);
  assert.ok(result.ok);
  assert.equal(result.url, server.url('/ok.png'));
  assert.equal(result.contentType, 'image/png');
  assert.equal(result.size, TINY_PNG.length);
  assert.equal(result.sha256, sha256(TINY_PNG));
  assert.deepEqual(result.bytes, TINY_PNG);
});

test('header parameters and case are stripped from the content type', async () => {
  server.routes.set('/note.txt', serve('Text/Plain; charset=UTF-8', Buffer.from('hello')));
  const result = await fetchMedia(server.url('/note.txt'), opts);
  assert.ok(result.ok);
  assert.equal(result.contentType, 'text/plain');
});

test('application/octet-stream and a missing content type are sniffed', async () => {
  server.routes.set('/octet', serve('application/octet-stream', TINY_PNG));
  server.routes.set('/untyped', serve(null, TINY_PNG));
  for (const path of ['/octet', '/untyped']) {
    const result = await fetchMedia(server.url(path), opts);
    assert.ok(result.ok, path);
    assert.equal(result.contentType, 'image/png', path);
  }
});

test('disallowed types fail, whether declared or sniffed', async () => {
  server.routes.set('/setup.exe', serve('application/x-msdownload', Buffer.from('MZ\x90\x00')));
  server.routes.set('/octet.exe', serve('application/octet-stream', Buffer.from('MZ\x90\x00 not media')));
  assert.match(
    assertFailure(await fetchMedia(server.url('/setup.exe'), opts), 'disallowed_type').detail,
    /x-msdownload/,
  );
  assertFailure(await fetchMedia(server.url('/octet.exe'), opts), 'disallowed_type');
});

test('a declared Content-Length over maxBytes fails before the body is read', async () => {
  const big = makePng(1_200_000);
  server.routes.set('/big.png', serve('image/png', big));
  const result = assertFailure(await fetchMedia(server.url('/big.png'), opts), 'too_large');
  assert.match(result.detail, /Content-Length 1200000/);
});

test('a body without Content-Length is cut off at maxBytes and the connection dropped', {
  timeout: 5_000,
}, async () => {
  let probe: ReturnType<typeof writeUntilClosed> | undefined;
  server.routes.set('/endless-chunked', (_req, res) => {
    res.setHeader('content-type', 'image/png');
    probe = writeUntilClosed(res, 64 * 1024 * 1024);
  });
  const result = assertFailure(await fetchMedia(server.url('/endless-chunked'), opts), 'too_large');
  assert.match(result.detail, /body exceeded the 1000000-byte limit/);
  const { finished, written } = await within(probe!.closed, 2_000, 'server-side close');
  assert.equal(finished, false, `server wrote all ${written} bytes before the client hung up`);
});

test('a server that says Content-Length: 100 and then streams 64 MB: only 100 bytes are read, connection dropped', {
  timeout: 5_000,
}, async () => {
  let probe: ReturnType<typeof writeUntilClosed> | undefined;
  const first = Buffer.concat([TINY_PNG, Buffer.alloc(100 - TINY_PNG.length, 0x41)]);
  server.routes.set('/liar', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': '100' });
    res.flushHeaders();
    // Bypass node's own Content-Length enforcement by writing to the socket directly.
    const socket = res.socket!;
    socket.write(first);
    probe = writeUntilClosed(socket, 64 * 1024 * 1024);
  });
  const result = await fetchMedia(server.url('/liar'), { ...opts, maxBytes: 1_000 });
  // HTTP/1.1 framing ends the response after the declared 100 bytes; the excess is a protocol error.
  // undici completes the response with the declared bytes, then drops the connection on the garbage.
  if (result.ok) assert.deepEqual(result.bytes, first);
  else assert.equal(result.reason, 'network');
  const { finished, written } = await within(probe!.closed, 2_000, 'server-side close');
  assert.equal(finished, false, `server wrote all ${written} bytes before the client hung up`);
});

test('a server that trickles forever is cut off by the total timeout', { timeout: 5_000 }, async () => {
  let probe: ReturnType<typeof writeUntilClosed> | undefined;
  server.routes.set('/trickle', (_req, res) => {
    res.setHeader('content-type', 'image/png');
    res.write(TINY_PNG.subarray(0, 8));
    const timer = setInterval(() => res.write('x'), 20);
    res.on('close', () => clearInterval(timer));
    probe = {
      closed: new Promise((resolve) => res.on('close', () => resolve({ written: 0, finished: false }))),
    };
  });
  const started = performance.now();
  const result = assertFailure(
    await fetchMedia(server.url('/trickle'), { ...opts, bodyTimeoutMs: 5_000, totalTimeoutMs: 400 }),
    'timeout',
  );
  const elapsed = performance.now() - started;
  // Well under bodyTimeoutMs (5 s): only the total timeout can have ended it.
  assert.ok(elapsed < 3_000, `took ${elapsed} ms`);
  assert.match(result.detail, /400 ms/);
  await within(probe!.closed, 2_000, 'server-side close');
});

test('a server that never sends headers hits the headers timeout', { timeout: 5_000 }, async () => {
  server.routes.set('/silent', () => {});
  const result = assertFailure(
    await fetchMedia(server.url('/silent'), { ...opts, headersTimeoutMs: 200 }),
    'timeout',
  );
  assert.match(result.detail, /headers/);
});

test('a redirect chain of 2 (relative and absolute) within the cap succeeds', async () => {
  server.routes.set('/hop1', redirect('/hop2', 301));
  server.routes.set('/hop2', redirect(server.url('/final.png'), 307));
  server.routes.set('/final.png', serve('image/png', TINY_PNG));
  const result = await fetchMedia(server.url('/hop1'), { ...opts, maxRedirects: 2 });
  assert.ok(result.ok, result.ok ? '' : result.detail);
  assert.equal(result.url, server.url('/hop1'));
  assert.equal(result.sha256, sha256(TINY_PNG));
});

test('more redirects than maxRedirects fail', async () => {
  server.routes.set('/r3', redirect('/r2'));
  server.routes.set('/r2', redirect('/r1'));
  server.routes.set('/r1', redirect('/final.png'));
  server.routes.set('/final.png', serve('image/png', TINY_PNG));
  assertFailure(await fetchMedia(server.url('/r3'), { ...opts, maxRedirects: 2 }), 'too_many_redirects');
  assert.ok((await fetchMedia(server.url('/r3'), { ...opts, maxRedirects: 3 })).ok);
});

test('a redirect loop fails as too_many_redirects', async () => {
  server.routes.set('/loop-a', redirect('/loop-b'));
  server.routes.set('/loop-b', redirect('/loop-a'));
  const result = assertFailure(
    await fetchMedia(server.url('/loop-a'), { ...opts, maxRedirects: 10 }),
    'too_many_redirects',
  );
  assert.match(result.detail, /^redirect loop:/);
});

test('a redirect without Location and a non-http redirect target fail', async () => {
  server.routes.set('/no-location', (_req, res) => {
    res.statusCode = 302;
    res.end();
  });
  server.routes.set('/to-file', redirect('file:///etc/passwd'));
  assertFailure(await fetchMedia(server.url('/no-location'), opts), 'http_status');
  assertFailure(await fetchMedia(server.url('/to-file'), opts), 'invalid_url');
});

test('404 fails with http_status', async () => {
  const result = assertFailure(await fetchMedia(server.url('/missing.png'), opts), 'http_status');
  assert.match(result.detail, /404/);
});

test('a private address without an allow-list fails as blocked_address, with no connection made', async () => {
  server.routes.set('/ok.png', serve('image/png', TINY_PNG));
  const strict = createOutboundDispatcher({ allowCidrs: [], connectTimeoutMs: 2_000 });
  try {
    const before = server.connections();
    assertFailure(
      await fetchMedia(server.url('/ok.png'), { ...opts, dispatcher: strict }),
      'blocked_address',
    );
    assert.equal(server.connections(), before);
  } finally {
    await strict.close();
  }
});

test('every redirect hop goes through the guard', async () => {
  // Only 127.0.0.1 is allowed; the redirect points at 127.0.0.2 (loopback, but outside the allow-list).
  const narrow = createOutboundDispatcher({ allowCidrs: ['127.0.0.1/32'], connectTimeoutMs: 2_000 });
  server.routes.set('/to-other-loopback', redirect(`http://127.0.0.2:${server.port}/ok.png`));
  try {
    assertFailure(
      await fetchMedia(server.url('/to-other-loopback'), { ...opts, dispatcher: narrow }),
      'blocked_address',
    );
  } finally {
    await narrow.close();
  }
});

test('malformed and non-http URLs fail as invalid_url', async () => {
  for (const url of ['not a url', 'ftp://127.0.0.1/x.png', 'file:///etc/passwd', '']) {
    assertFailure(await fetchMedia(url, opts), 'invalid_url');
  }
});

test('a refused connection fails as network', async () => {
  const closed = await startMediaServer();
  const url = closed.url('/x.png');
  await closed.close();
  assertFailure(await fetchMedia(url, opts), 'network');
});
