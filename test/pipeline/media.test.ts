import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiMessage,
  envelopesFor,
  sendGroupMms,
  startPipelineGateway,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Media through the real pipeline, from a real media server on 127.0.0.1: a good image is fetched,
 * hashed and stored; every kind of bad media fails the whole group with 40317 before the carrier
 * sees it. The stalled-body case waits out the gateway's 10 s body timeout (start-pipeline.ts), so
 * the cases run concurrently.
 */

const RECIPIENTS = ['+13125557101', '+13125557102'];

// --- a real PNG, built here -------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A width×height RGB PNG with a gradient, so it is not trivially small. */
function makePng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, no filter, no interlace
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([(x * 7) & 0xff, (y * 5) & 0xff, (x ^ y) & 0xff], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PNG = makePng(64, 48);
const BIG = Buffer.concat([PNG, Buffer.alloc(1_200_000 - PNG.length, 0x5a)]);
/** Fine alone; two of them are over the message's 1 MB total. */
const HALF = Buffer.concat([PNG, Buffer.alloc(600_000 - PNG.length, 0x5a)]);

// --- the media server ---------------------------------------------------------------------------

interface MediaServer {
  base: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

async function startMediaServer(): Promise<MediaServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    switch (url) {
      case '/good.png':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
        res.end(PNG);
        return;
      case '/big.png':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': BIG.length });
        res.end(BIG);
        return;
      case '/half-1.png':
      case '/half-2.png':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': HALF.length });
        res.end(HALF);
        return;
      case '/big-chunked.png':
        // No Content-Length: only counting the bytes as they come can catch it.
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(BIG);
        return;
      case '/page.html':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>not media</body></html>');
        return;
      case '/script.bin':
        // Declared as octet-stream, so the gateway sniffs: an ELF header is no MMS type.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(200)]));
        return;
      case '/liar.png':
        // Promises 5000 bytes, sends 1000 of a real PNG's start, then hangs up: a truncated image.
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': 5000 });
        res.write(PNG.subarray(0, 1000), () => res.socket?.destroy());
        return;
      case '/stall.png':
        // Headers and a first chunk, then nothing, ever.
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
        res.write(PNG.subarray(0, 100));
        return;
      case '/loop-a':
        res.writeHead(302, { location: '/loop-b' });
        res.end();
        return;
      case '/loop-b':
        res.writeHead(302, { location: '/loop-a' });
        res.end();
        return;
      default: {
        // /chain/N redirects to /chain/N+1, and /chain/10 to the good PNG: ten redirects in all.
        const step = /^\/chain\/(\d+)$/.exec(url);
        if (step) {
          const n = Number(step[1]);
          res.writeHead(302, { location: n < 10 ? `/chain/${n + 1}` : '/good.png?via=chain' });
          res.end();
          return;
        }
        res.writeHead(404);
        res.end();
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function assertInvalidMmsContent(final: ApiMessage, detailPattern?: RegExp): void {
  assert.deepEqual(
    final.to.map((r) => r.status),
    RECIPIENTS.map(() => 'sending_failed'),
    'every recipient of the group fails',
  );
  assert.equal(final.errors.length, RECIPIENTS.length, 'one error per recipient');
  for (const e of final.errors) {
    assert.equal(e.code, '40317');
    assert.equal(e.title, 'Invalid MMS content');
    if (detailPattern) assert.match(e.detail ?? '', detailPattern);
  }
  assert.equal(final.sent_at, null, 'nothing was sent');
  assert.ok(final.completed_at);
}

// --- with 127.0.0.0/8 allowed -------------------------------------------------------------------

describe('media fetch with the media server reachable', { concurrency: true }, () => {
  let gw: TestGateway;
  let media: MediaServer;
  let receiver: WebhookReceiver;

  before(async () => {
    gw = await startPipelineGateway();
    media = await startMediaServer();
    receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  });

  after(async () => {
    await gw?.close();
    await media?.close();
    await receiver?.close();
  });

  async function send(...mediaPaths: string[]): Promise<ApiMessage> {
    const accepted = await sendGroupMms(gw, {
      to: RECIPIENTS,
      text: `media ${mediaPaths.join(' ')}`,
      media_urls: mediaPaths.map((p) => `${media.base}${p}`),
      webhook_url: receiver.url,
    });
    return waitForFinal(gw, accepted.id, 40_000);
  }

  /** The media failure reached the receivers too, and the carrier never saw the message. */
  async function assertFailedWithoutCarrier(final: ApiMessage): Promise<void> {
    const events = await waitFor(
      () => {
        const mine = envelopesFor(receiver.received, final.id);
        return mine.length >= RECIPIENTS.length ? mine : null;
      },
      { description: 'message.finalized webhooks' },
    );
    assert.deepEqual(
      events.map((e) => e.data.event_type),
      RECIPIENTS.map(() => 'message.finalized'),
    );
    for (const e of events) {
      assert.equal(e.data.payload.to[0]!.status, 'sending_failed');
      assert.deepEqual(
        e.data.payload.errors.map((x) => x.code),
        ['40317'],
      );
    }
    const ledger = await gw.store.simulator.list();
    assert.equal(ledger.filter((row) => row.idempotency_key === final.id).length, 0, 'never submitted');
  }

  test('a good PNG is fetched once, stored by hash, and the group is delivered', async () => {
    const final = await send('/good.png');
    assert.deepEqual(
      final.to.map((r) => r.status),
      RECIPIENTS.map(() => 'delivered'),
    );
    const sha256 = createHash('sha256').update(PNG).digest('hex');
    assert.deepEqual(final.media, [
      { url: `${media.base}/good.png`, content_type: 'image/png', size: PNG.length, sha256 },
    ]);
    assert.deepEqual(final.errors, []);
    assert.equal(media.requests.filter((p) => p === '/good.png').length, 1, 'fetched once for the group');
    const stored = fs.readFileSync(path.join(gw.dataDir, 'media', sha256.slice(0, 2), sha256));
    assert.ok(stored.equals(PNG), 'the stored copy is byte-identical');
  });

  test('1.2 MB with Content-Length → 40317 for every recipient', async () => {
    const final = await send('/big.png');
    assertInvalidMmsContent(final, /too large/);
    await assertFailedWithoutCarrier(final);
  });

  test('1.2 MB without Content-Length (chunked) → 40317', async () => {
    const final = await send('/big-chunked.png');
    assertInvalidMmsContent(final, /too large/);
    await assertFailedWithoutCarrier(final);
  });

  test('two media of 600 kB each: over the 1 MB message total → 40317', async () => {
    const final = await send('/half-1.png', '/half-2.png');
    // Fetched at the same time, so either may be the one that crosses the shared total.
    assertInvalidMmsContent(
      final,
      /half-[12]\.png is too large: the total media size must be less than 1000000 bytes/,
    );
    await assertFailedWithoutCarrier(final);
  });

  test('a disallowed declared type (text/html) → 40317', async () => {
    const final = await send('/page.html');
    assertInvalidMmsContent(final, /text\/html/);
    await assertFailedWithoutCarrier(final);
  });

  test('octet-stream whose bytes are no MMS type → 40317', async () => {
    const final = await send('/script.bin');
    assertInvalidMmsContent(final, /not an allowed MMS media type|not recognisable/);
    await assertFailedWithoutCarrier(final);
  });

  test('a server that sends less than its Content-Length and hangs up → 40317', async () => {
    const final = await send('/liar.png');
    assertInvalidMmsContent(final, /could not be fetched/);
    await assertFailedWithoutCarrier(final);
  });

  test('a body that never ends (stalls after the first bytes) → 40317 once the body timeout passes', async () => {
    const final = await send('/stall.png');
    assertInvalidMmsContent(final, /timeout|stalled/);
    await assertFailedWithoutCarrier(final);
  });

  test('a redirect loop → 40317, after following it only as far as the loop', async () => {
    const final = await send('/loop-a');
    assertInvalidMmsContent(final, /redirect/);
    await assertFailedWithoutCarrier(final);
    assert.deepEqual(
      media.requests.filter((p) => p.startsWith('/loop-')),
      ['/loop-a', '/loop-b'],
    );
  });

  test('a redirect chain longer than 5 hops → 40317, and the sixth redirect is not followed', async () => {
    const final = await send('/chain/0');
    assertInvalidMmsContent(final, /more than 5 redirects/);
    await assertFailedWithoutCarrier(final);
    assert.deepEqual(
      media.requests.filter((p) => p.startsWith('/chain/') || p.includes('via=chain')),
      ['/chain/0', '/chain/1', '/chain/2', '/chain/3', '/chain/4', '/chain/5'],
    );
  });
});

// --- without an allow-list ----------------------------------------------------------------------

describe('media fetch without OUTBOUND_ALLOW_CIDRS', () => {
  let gw: TestGateway;
  let media: MediaServer;

  before(async () => {
    // Production mode: a sandbox lets media come from loopback addresses.
    gw = await startPipelineGateway({ env: { OUTBOUND_ALLOW_CIDRS: '', SANDBOX: 'false' } });
    media = await startMediaServer();
  });

  after(async () => {
    await gw?.close();
    await media?.close();
  });

  for (const host of ['127.0.0.1', 'localhost']) {
    test(`a media URL on ${host} is refused before any connection: 40317, and the server saw nothing`, async () => {
      const port = new URL(media.base).port;
      const accepted = await sendGroupMms(gw, {
        to: RECIPIENTS,
        text: 'ssrf',
        media_urls: [`http://${host}:${port}/good.png`],
      });
      const final = await waitForFinal(gw, accepted.id);
      assertInvalidMmsContent(final, /blocked_address|not publicly routable/);
      assert.deepEqual(media.requests, [], 'the media server received no request');
    });
  }
});
