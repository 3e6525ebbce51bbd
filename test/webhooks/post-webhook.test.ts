import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Agent } from 'undici';
import { parseRetryAfter, postWebhook } from '../../src/webhooks/post-webhook.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

const servers: Server[] = [];

async function startReceiver(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    res.on('error', () => {}); // the client may hang up mid-response; that is the point of some tests
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const dispatcher = new Agent();
after(async () => {
  await Promise.all(servers.filter((s) => s.listening).map(closeServer));
  await dispatcher.close();
});

const signatureHeaders = { 'telnyx-signature-ed25519': 'c2lnbmF0dXJl', 'telnyx-timestamp': '1700000000' };
const body = '{"data":{"id":"e1"},"meta":{"attempt":1}}';

function attempt(url: string, extra: { timeoutMs?: number; maxResponseBytes?: number } = {}) {
  return postWebhook({ url, body, headers: signatureHeaders, dispatcher, timeoutMs: 2000, ...extra });
}

describe('postWebhook', () => {
  test('200 is delivered, with the request as Telnyx sends it and the response body captured', async () => {
    const receiver = await startReceiver((_req, res) => res.end('thanks'));
    const result = await attempt(receiver.url);
    assert.deepEqual(
      { ...result, durationMs: 0 },
      {
        outcome: 'delivered',
        statusCode: 200,
        durationMs: 0,
        responseBody: 'thanks',
        error: null,
        operatorError: null,
        retryAfterMs: null,
      },
    );
    assert.equal(receiver.received.length, 1);
    const [request] = receiver.received;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/hooks');
    assert.equal(request?.body, body);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['user-agent'], 'mms-gateway');
    assert.equal(request?.headers['telnyx-signature-ed25519'], 'c2lnbmF0dXJl');
    assert.equal(request?.headers['telnyx-timestamp'], '1700000000');
  });

  test('204 with no body is delivered', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(204).end());
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'delivered');
    assert.equal(result.statusCode, 204);
    assert.equal(result.responseBody, '');
  });

  test('302 is failed and the redirect target is not requested', async () => {
    const target = await startReceiver((_req, res) => res.end('should not be here'));
    const receiver = await startReceiver((_req, res) => res.writeHead(302, { location: target.url }).end());
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.statusCode, 302);
    assert.equal(receiver.received.length, 1);
    assert.equal(target.received.length, 0);
  });

  test('410 is gone', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(410).end('unsubscribed'));
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'gone');
    assert.equal(result.statusCode, 410);
    assert.equal(result.responseBody, 'unsubscribed');
  });

  test('other 4xx is failed', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(404, { 'retry-after': '5' }).end());
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.statusCode, 404);
    assert.equal(result.retryAfterMs, null);
  });

  test('500 is retry', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(500).end('boom'));
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'retry');
    assert.equal(result.statusCode, 500);
    assert.equal(result.responseBody, 'boom');
    assert.equal(result.retryAfterMs, null);
  });

  test('429 with Retry-After: 7 is retry after 7000 ms', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end());
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'retry');
    assert.equal(result.statusCode, 429);
    assert.equal(result.retryAfterMs, 7000);
  });

  test('503 with an HTTP-date Retry-After is retry after the time until that date', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const receiver = await startReceiver((_req, res) => res.writeHead(503, { 'retry-after': at }).end());
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'retry');
    assert.ok(
      result.retryAfterMs !== null && result.retryAfterMs > 115_000 && result.retryAfterMs <= 120_000,
    );
  });

  test('a receiver that accepts but never answers is cut off at timeoutMs', async () => {
    const receiver = await startReceiver(() => {});
    const result = await attempt(receiver.url, { timeoutMs: 200 });
    assert.equal(result.outcome, 'retry');
    assert.equal(result.statusCode, null);
    assert.match(result.error ?? '', /timed out after 200ms/);
    assert.ok(result.durationMs >= 190 && result.durationMs < 1000, `took ${result.durationMs}ms`);
    assert.equal(receiver.received.length, 1);
  });

  test('an attempt whose job is aborted is given up at once, not at its deadline', async () => {
    const receiver = await startReceiver(() => {});
    const listeners: Array<(reason: unknown) => void> = [];
    const pending = postWebhook({
      url: receiver.url,
      body,
      headers: signatureHeaders,
      dispatcher,
      timeoutMs: 60_000,
      onAbort: (listener) => {
        listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
    });
    while (receiver.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(listeners.length, 1, 'the attempt listens for the abort');
    listeners[0]!(new Error('shutting down'));
    const result = await pending;
    assert.equal(result.outcome, 'retry');
    assert.equal(result.statusCode, null);
    assert.ok(result.durationMs < 10_000, `took ${result.durationMs}ms`);
    assert.equal(listeners.length, 0, 'and stops listening once it ends');
  });

  test('a 200 whose body never ends is delivered once the deadline passes', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const result = await attempt(receiver.url, { timeoutMs: 200 });
    assert.equal(result.outcome, 'delivered');
    assert.equal(result.responseBody, 'partial');
    assert.match(result.error ?? '', /reading response body: timed out/);
    assert.ok(result.durationMs < 1000, `took ${result.durationMs}ms`);
  });

  test('connection refused is retry', async () => {
    const receiver = await startReceiver(() => {});
    await receiver.close();
    const result = await attempt(receiver.url);
    assert.equal(result.outcome, 'retry');
    assert.equal(result.statusCode, null);
    // The tenant sees the kind of failure; the address and port only reach the operator's log.
    assert.equal(result.error, 'connection refused');
    assert.match(result.operatorError ?? '', /ECONNREFUSED 127\.0\.0\.1:\d+/);
  });

  test('a 5 MB response body is truncated to maxResponseBytes', async () => {
    const receiver = await startReceiver((_req, res) => res.end(Buffer.alloc(5 * 1024 * 1024, 'a')));
    const result = await attempt(receiver.url, { maxResponseBytes: 1024 });
    assert.equal(result.outcome, 'delivered');
    assert.equal(result.responseBody, 'a'.repeat(1024));
    assert.ok(result.durationMs < 1000, `took ${result.durationMs}ms`);
  });

  test('an endless response body is cut off after maxResponseBytes, not read to the deadline', async () => {
    let receiverSawHangUp = false;
    const receiver = await startReceiver((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'b');
      res.writeHead(500);
      res.on('close', () => {
        receiverSawHangUp = true;
      });
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const result = await attempt(receiver.url, { timeoutMs: 3000, maxResponseBytes: 100 });
    assert.equal(result.outcome, 'retry');
    assert.equal(result.responseBody, 'b'.repeat(100));
    assert.equal(result.error, null);
    assert.ok(result.durationMs < 1000, `took ${result.durationMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(receiverSawHangUp, 'the connection should be closed, not drained');
  });

  test('a URL that is not http(s) is failed without any request', async () => {
    const result = await attempt('ftp://127.0.0.1/hooks');
    assert.equal(result.outcome, 'failed');
    assert.match(result.error ?? '', /unsupported webhook URL scheme/);
  });
});

test('parseRetryAfter reads seconds and HTTP dates and ignores garbage', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('0', now), 0);
  assert.equal(parseRetryAfter(' 120 ', now), 120_000);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0);
  assert.equal(parseRetryAfter('-5', now), null);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter('2025-01-01', now), null);
  assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', now), 0);
  assert.equal(parseRetryAfter(undefined, now), null);
});

describe('postWebhook through the outbound guard', () => {
  test('a URL the guard refuses is retired (gone), not retried, and nothing reaches the receiver', async () => {
    const { createOutboundDispatcher } = await import('../../src/net/outbound-guard.ts');
    const receiver = await startReceiver((_req, res) => res.end('ok'));
    const guarded = createOutboundDispatcher({ allowCidrs: [], connectTimeoutMs: 1000 });
    const result = await postWebhook({
      url: receiver.url,
      body: '{}',
      headers: {},
      dispatcher: guarded,
      timeoutMs: 2000,
    });
    await guarded.close();
    assert.equal(result.outcome, 'gone');
    assert.equal(result.statusCode, null);
    assert.equal(receiver.received.length, 0);
  });
});
