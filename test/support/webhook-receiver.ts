import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as it arrived: the raw body byte-for-byte (as UTF-8), and every header. */
export interface ReceivedRequest {
  /** 0-based order of arrival at this receiver. */
  index: number;
  method: string;
  /** Path and query. */
  path: string;
  /** Lowercased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  rawBody: string;
  /** Date.now() when the body had been read. */
  receivedAt: number;
  /** What the receiver answered. */
  reply: Reply;
}

/**
 * How to answer one request: a status (default 200) with optional headers, body and a delay before
 * answering, or `'down'`: drop the connection without answering (the sender sees a socket error).
 */
export type Reply =
  | { status?: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  | 'down';

export type Responder = (request: Omit<ReceivedRequest, 'reply'>) => Reply | Promise<Reply>;

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port><path>` */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order (not those made while stopped: nothing was listening). */
  readonly received: ReceivedRequest[];
  /** Replaces the responder for later requests. */
  respond(responder: Responder | Reply): void;
  /** Stops listening (connections are refused) and drops open connections; the port is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /** Default: answer 200 to everything. */
  respond?: Responder | Reply;
  /** Path part of `url`; default `/webhook`. */
  path?: string;
  /** Port to listen on; default an ephemeral one. */
  port?: number;
}

/** A real HTTP server on 127.0.0.1 that records what it is sent and answers as programmed. */
export async function startWebhookReceiver(opts: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  let responder = toResponder(opts.respond ?? {});
  let arrivals = 0;
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void answer(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.keepAliveTimeout = 1_000;

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const request = {
      index: arrivals++,
      method: req.method ?? '',
      path: req.url ?? '',
      headers,
      rawBody,
      receivedAt: Date.now(),
    };
    let reply: Reply;
    try {
      reply = await responder(request);
    } catch (err) {
      reply = { status: 599, body: `responder threw: ${String(err)}` };
    }
    received.push({ ...request, reply });
    if (reply === 'down') {
      req.socket.destroy();
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      const body = reply.body ?? '';
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers });
      res.end(body);
    };
    if (reply.delayMs && reply.delayMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, reply.delayMs);
      timers.add(timer);
    } else {
      send();
    }
  }

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const port = await listen(opts.port ?? 0);
  const path = opts.path ?? '/webhook';

  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    received,
    respond(next) {
      responder = toResponder(next);
    },
    stop: stopListening,
    async start() {
      if (!server.listening) await listen(port);
    },
    close: stopListening,
  };
}

function toResponder(r: Responder | Reply): Responder {
  return typeof r === 'function' ? r : () => r;
}

/** A port that nothing listens on (bound and released at once). */
export async function closedPortUrl(path = '/webhook'): Promise<string> {
  const server = http.createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
