import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

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

/** One event as the receiver first saw it (later repeats of the same event id only bump `copies`). */
export interface ReceivedEvent {
  id: string;
  eventType: string;
  /** `data.payload.id`: the recipient's own message id. */
  recipientId: string;
  /** `data.payload.group_message_id`. */
  groupMessageId: string;
  status: string | null;
  /** performance.now() in this process when the first copy arrived. */
  firstAt: number;
  copies: number;
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
  /**
   * Every request so far, in arrival order (not those made while stopped: nothing was listening).
   * Only with `keepRequests: true`; throws otherwise.
   */
  readonly received: ReceivedRequest[];
  /** Every webhook event posted, by event id, whatever the answer was. */
  readonly events: Map<string, ReceivedEvent>;
  /** recipient id → the message.finalized events received for it (distinct event ids). */
  readonly finalized: Map<string, ReceivedEvent[]>;
  /** Requests so far, repeats included. */
  posts(): number;
  /** Request bodies that were not a readable event. */
  malformed(): number;
  /** TCP connections accepted so far (keep-alive reuse shows as far fewer than posts). */
  connections(): number;
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
  /**
   * Keep every request for `received`. Default false: long runs (the crash test, the benchmarks)
   * only need the events and counts, and piling up every request costs them memory and CPU.
   */
  keepRequests?: boolean;
  /**
   * How long an idle connection stays open; default 60 s, so the gateway reuses its connections. At
   * 1 s or less undici (which wants 2 s of margin) opens a new connection for every request.
   */
  keepAliveTimeoutMs?: number;
  /** Called once per new message.finalized event, as it arrives. */
  onFinalized?(event: ReceivedEvent): void;
}

interface EventBody {
  data?: {
    id?: unknown;
    event_type?: unknown;
    payload?: { id?: unknown; group_message_id?: unknown; to?: Array<{ status?: unknown }> };
  };
}

/**
 * A real HTTP server on 127.0.0.1 that answers as programmed, indexes the webhook events it is posted
 * by event id, counts requests and connections, and (with `keepRequests`) keeps every request.
 */
export async function startWebhookReceiver(opts: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const events = new Map<string, ReceivedEvent>();
  const finalized = new Map<string, ReceivedEvent[]>();
  let responder = toResponder(opts.respond ?? {});
  let arrivals = 0;
  let malformed = 0;
  let connections = 0;
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      if (!indexEvent(rawBody, performance.now())) malformed++;
      void answer(req, res, rawBody);
    });
  });
  server.on('connection', () => {
    connections++;
  });
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 60_000;

  /** Indexes the event in `rawBody`; false if it is not one. */
  function indexEvent(rawBody: string, at: number): boolean {
    let d: EventBody['data'];
    try {
      d = (JSON.parse(rawBody) as EventBody | null)?.data;
    } catch {
      return false;
    }
    if (typeof d?.id !== 'string' || typeof d.event_type !== 'string' || typeof d.payload?.id !== 'string') {
      return false;
    }
    const seen = events.get(d.id);
    if (seen) {
      seen.copies++;
      return true;
    }
    const status = d.payload.to?.[0]?.status;
    const event: ReceivedEvent = {
      id: d.id,
      eventType: d.event_type,
      recipientId: d.payload.id,
      groupMessageId: typeof d.payload.group_message_id === 'string' ? d.payload.group_message_id : '',
      status: typeof status === 'string' ? status : null,
      firstAt: at,
      copies: 1,
    };
    events.set(event.id, event);
    if (event.eventType === 'message.finalized') {
      const list = finalized.get(event.recipientId);
      if (list) list.push(event);
      else finalized.set(event.recipientId, [event]);
      opts.onFinalized?.(event);
    }
    return true;
  }

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
    if (opts.keepRequests) received.push({ ...request, reply });
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
    get received() {
      if (!opts.keepRequests) {
        throw new Error('start the webhook receiver with keepRequests: true to read `received`');
      }
      return received;
    },
    events,
    finalized,
    posts: () => arrivals,
    malformed: () => malformed,
    connections: () => connections,
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
