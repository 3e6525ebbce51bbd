/**
 * A Bandwidth v2 Messaging emulator for tests and for operators trying the Bandwidth connector
 * without an account, built from Bandwidth's spec and docs (see /work/shared/reference/bandwidth):
 *
 * - `POST /api/v1/oauth2/token`: client credentials (form `grant_type=client_credentials`, HTTP
 *   Basic client id and secret) → `access_token`, `expires_in`.
 * - `POST /api/v2/users/{accountId}/messages` with `Authorization: Bearer`: the request checked
 *   (check-request.ts), 202 with the message object and a 29-character id.
 * - Callbacks to the application's callback URL: per recipient `message-sent` then
 *   `message-delivered` or `message-failed`, each a JSON array, with the Basic challenge-response
 *   when the application has credentials, retried until acknowledged.
 * - `GET /api/v2/users/{accountId}/media/{mediaId}`: media of injected inbound messages.
 * - A control API under `/control` (see `handleControl`) to script outcomes and read what it saw.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkMessageRequest, type FieldError } from './check-request.ts';
import { type CallbackTarget, postCallback } from './post-callback.ts';

export interface BandwidthEmulatorOptions {
  port?: number;
  host?: string;
  accountId: string;
  applicationId: string;
  clientId: string;
  clientSecret: string;
  /** The application's callback URL (status and inbound); callbacks wait until one is set. */
  callbackUrl?: string;
  callbackUsername?: string;
  callbackPassword?: string;
  tokenLifetimeSeconds?: number;
  /** Delay before the first callback of a message. */
  callbackDelayMs?: number;
  /** First retry of an unacknowledged callback; doubles up to callbackRetryMaxMs. */
  callbackRetryMs?: number;
  callbackRetryMaxMs?: number;
  /** Bandwidth waits 10 s for a 2xx. */
  callbackTimeoutMs?: number;
  /** Gives up a callback after this many attempts (Bandwidth: after 24 hours). */
  callbackMaxAttempts?: number;
  log?: (line: string) => void;
}

export type Outcome =
  | { outcome: 'delivered' }
  | { outcome: 'failed'; errorCode: number; description?: string };

/** The next `count` submits get this answer instead of being checked. */
export interface SubmitAnswer {
  status: number;
  count?: number;
  retryAfterSeconds?: number;
  type?: string;
  description?: string;
}

export interface ReceivedSubmit {
  accountId: string;
  authorization?: string;
  contentType?: string;
  body: unknown;
  /** The 202 body, when accepted. */
  answer: { status: number; body: unknown };
  fieldErrors: FieldError[];
  unknownFields: string[];
  receivedAt: string;
}

export interface SentCallback {
  events: Array<Record<string, unknown>>;
  attempts: number;
  /** Attempts that were answered 401 with a challenge and sent again with credentials. */
  challenges: number;
  lastStatus?: number;
  lastError?: string;
  acknowledgedAt?: string;
  gaveUp?: boolean;
}

export interface InboundInjection {
  from: string;
  /** Every recipient of the group, ours and others. */
  to: string[];
  /** The numbers of the account that receive it (one callback each); default: all of `to`. */
  owners?: string[];
  text?: string;
  media?: Array<{ contentType: string; base64: string; filename?: string }>;
}

export interface BandwidthEmulator {
  url: string;
  /** Give the connector these. */
  baseUrl: string;
  tokenUrl: string;
  submits: ReceivedSubmit[];
  callbacks: SentCallback[];
  tokenRequests(): number;
  /** Tokens issued so far stop working (the next submit gets 401). */
  revokeTokens(): void;
  setOutcome(phoneNumber: string, outcome: Outcome): void;
  answerNext(answer: SubmitAnswer): void;
  controlCallbacks(control: { duplicate?: boolean; hold?: boolean }): void;
  setApplication(target: { callbackUrl?: string; username?: string; password?: string }): void;
  injectInbound(input: InboundInjection): string[];
  close(): Promise<void>;
}

const DESCRIPTIONS: Record<number, string> = {
  4405: 'rejected-unallocated-from-number',
  4432: 'forbidden to country',
  4470: 'rejected-spam-detected',
  4720: 'invalid-destination-address',
  4775: 'destination-rejected-due-to-user-opt-out',
  5600: 'destination-carrier-queue-full',
  9902: 'delivery-receipt-expired',
};

/** 13-digit epoch milliseconds + 16 lowercase letters and digits, as Bandwidth's ids look. */
export function bandwidthMessageId(now = Date.now()): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const tail = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${String(now).padStart(13, '0').slice(-13)}${tail}`;
}

const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function readBody(req: http.IncomingMessage, limit = 5 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startBandwidthEmulator(opts: BandwidthEmulatorOptions): Promise<BandwidthEmulator> {
  const log = opts.log ?? (() => {});
  const lifetime = opts.tokenLifetimeSeconds ?? 3600;
  const retryMs = opts.callbackRetryMs ?? 200;
  const retryMaxMs = opts.callbackRetryMaxMs ?? 5000;
  const timeoutMs = opts.callbackTimeoutMs ?? 10_000;
  const maxAttempts = opts.callbackMaxAttempts ?? 100;
  const delayMs = opts.callbackDelayMs ?? 20;
  const application: CallbackTarget & { set: boolean } = {
    url: opts.callbackUrl ?? '',
    username: opts.callbackUsername,
    password: opts.callbackPassword,
    set: opts.callbackUrl !== undefined,
  };
  const tokens = new Map<string, number>();
  let tokenRequestCount = 0;
  const submits: ReceivedSubmit[] = [];
  const callbacks: SentCallback[] = [];
  const outcomes = new Map<string, Outcome>();
  const answers: SubmitAnswer[] = [];
  const media = new Map<string, { contentType: string; bytes: Buffer }>();
  let duplicate = false;
  let hold = false;
  const held: Array<() => void> = [];
  const closing = new AbortController();
  const tasks = new Set<Promise<void>>();

  /** Resolves after `ms`, or at once when the emulator closes; leaves no listener behind. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      closing.signal.addEventListener('abort', done, { once: true });
    });

  /** Posts one callback until acknowledged (2xx), retrying with backoff. */
  async function deliver(events: Array<Record<string, unknown>>): Promise<void> {
    const record: SentCallback = { events, attempts: 0, challenges: 0 };
    callbacks.push(record);
    let backoff = retryMs;
    while (!closing.signal.aborted) {
      if (hold || !application.set) {
        await new Promise<void>((resolve) => {
          const done = () => {
            closing.signal.removeEventListener('abort', done);
            resolve();
          };
          held.push(done);
          closing.signal.addEventListener('abort', done, { once: true });
        });
        continue;
      }
      record.attempts++;
      const out = await postCallback(application, events, { timeoutMs, signal: closing.signal });
      if (out.challenged) record.challenges++;
      record.lastStatus = out.status;
      record.lastError = out.error;
      if (out.status !== undefined && out.status >= 200 && out.status < 300) {
        record.acknowledgedAt = new Date().toISOString();
        return;
      }
      log(
        `callback ${String(events[0]?.type)} answered ${out.status ?? out.error}; retrying in ${backoff} ms`,
      );
      if (record.attempts >= maxAttempts) {
        record.gaveUp = true;
        return;
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, retryMaxMs);
    }
  }

  /** Runs `work` in the background, kept so close() can wait for it. */
  function spawn(work: () => Promise<void>): void {
    const task = work()
      .catch((err: unknown) => log(`callback task failed: ${String(err)}`))
      .finally(() => tasks.delete(task));
    tasks.add(task);
  }

  function send(events: Array<Record<string, unknown>>): Promise<void> {
    const copies = duplicate ? [deliver(events), deliver(events)] : [deliver(events)];
    return Promise.all(copies).then(() => {});
  }

  function statusEvents(message: Record<string, unknown>, recipients: string[]) {
    const sent: Array<Record<string, unknown>> = [];
    const finals: Array<Record<string, unknown>> = [];
    const callbackMessage = { ...message, text: '' };
    for (const to of recipients) {
      const outcome = outcomes.get(to) ?? { outcome: 'delivered' };
      const time = () => new Date().toISOString();
      const base = { to, message: callbackMessage };
      if (outcome.outcome === 'delivered') {
        sent.push({ ...base, type: 'message-sent', time: time(), description: 'Message sent to carrier' });
        finals.push({
          ...base,
          type: 'message-delivered',
          time: time(),
          description: 'Message delivered to handset.',
        });
        continue;
      }
      // 41xx/43xx/44xx and 51xx-55xx never leave Bandwidth: no message-sent before the failure.
      const head = Math.floor(outcome.errorCode / 100);
      const leftBandwidth = head === 47 || head === 56 || head >= 90;
      if (leftBandwidth) {
        sent.push({ ...base, type: 'message-sent', time: time(), description: 'Message sent to carrier' });
      }
      finals.push({
        ...base,
        type: 'message-failed',
        time: time(),
        description: outcome.description ?? DESCRIPTIONS[outcome.errorCode] ?? 'message-failed',
        errorCode: outcome.errorCode,
      });
    }
    return { sent, finals };
  }

  function bearerValid(header: string | undefined): boolean {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const expiresAt = m ? tokens.get(m[1]!) : undefined;
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  async function handleToken(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    tokenRequestCount++;
    const body = await readBody(req, 64 * 1024);
    const expected = `Basic ${Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      return json(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const form = new URLSearchParams(body);
    if (type !== 'application/x-www-form-urlencoded' || form.get('grant_type') !== 'client_credentials') {
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + lifetime * 1000);
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: lifetime, scope: '' });
  }

  async function handleCreate(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    accountId: string,
  ): Promise<void> {
    const raw = await readBody(req);
    const record: ReceivedSubmit = {
      accountId,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body: undefined,
      answer: { status: 0, body: null },
      fieldErrors: [],
      unknownFields: [],
      receivedAt: new Date().toISOString(),
    };
    submits.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.answer = { status, body };
      json(res, status, body, headers);
    };
    try {
      record.body = JSON.parse(raw);
    } catch {
      record.body = raw;
    }
    if (!bearerValid(req.headers.authorization)) {
      return answer(401, { type: 'unauthorized', description: 'Authentication Failed' });
    }
    if (accountId !== opts.accountId) return answer(403, { type: 'forbidden', description: 'Access Denied' });
    const scripted = answers[0];
    if (scripted) {
      scripted.count = (scripted.count ?? 1) - 1;
      if (scripted.count <= 0) answers.shift();
      const headers: Record<string, string> =
        scripted.retryAfterSeconds !== undefined ? { 'retry-after': String(scripted.retryAfterSeconds) } : {};
      const type =
        scripted.type ??
        (scripted.status === 429
          ? 'max-message-queue-size-exceeded'
          : scripted.status === 400
            ? 'request-validation'
            : 'internal-server-error');
      return answer(
        scripted.status,
        { type, description: scripted.description ?? `Scripted answer ${scripted.status}` },
        headers,
      );
    }
    if (req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
      return answer(415, {
        type: 'unsupported-content-type',
        description: 'Content-Type must be application/json',
      });
    }
    const checked = checkMessageRequest(record.body, new Date());
    if (!checked.ok) {
      record.fieldErrors = checked.fieldErrors;
      return answer(400, {
        type: 'request-validation',
        description: 'Your request could not be accepted',
        fieldErrors: checked.fieldErrors,
      });
    }
    record.unknownFields = checked.unknownFields;
    const r = checked.request;
    if (r.applicationId !== opts.applicationId) {
      const fieldErrors = [
        { fieldName: 'applicationId', description: `'${r.applicationId}' is not a valid application` },
      ];
      record.fieldErrors = fieldErrors;
      return answer(400, {
        type: 'request-validation',
        description: 'Your request could not be accepted',
        fieldErrors,
      });
    }
    const now = new Date();
    const message: Record<string, unknown> = {
      id: bandwidthMessageId(now.getTime()),
      owner: r.from,
      applicationId: r.applicationId,
      time: now.toISOString(),
      segmentCount: 1,
      direction: 'out',
      to: r.to,
      from: r.from,
      ...(r.media ? { media: r.media } : {}),
      ...(r.text !== undefined ? { text: r.text } : {}),
      ...(r.tag !== undefined ? { tag: r.tag } : {}),
      priority: r.priority ?? 'default',
      ...(r.expiration !== undefined ? { expiration: r.expiration } : {}),
    };
    answer(202, message);
    const { sent, finals } = statusEvents(message, r.to);
    spawn(async () => {
      await sleep(delayMs);
      for (const event of sent) await send([event]);
      for (const event of finals) await send([event]);
    });
  }

  function injectInbound(input: InboundInjection): string[] {
    const ids: string[] = [];
    for (const owner of input.owners ?? input.to) {
      const id = bandwidthMessageId();
      ids.push(id);
      const urls = (input.media ?? []).map((m, i) => {
        const mediaId = `${id}/${i}/${encodeURIComponent(m.filename ?? `part${i}`)}`;
        media.set(mediaId, { contentType: m.contentType, bytes: Buffer.from(m.base64, 'base64') });
        return `${baseUrl}/users/${opts.accountId}/media/${mediaId}`;
      });
      const time = new Date().toISOString();
      const event = {
        time,
        type: 'message-received',
        to: owner,
        description: 'Incoming message received',
        message: {
          id,
          owner,
          applicationId: opts.applicationId,
          time,
          segmentCount: 1,
          direction: 'in',
          to: input.to,
          from: input.from,
          text: input.text ?? '',
          ...(urls.length > 0 ? { media: urls } : {}),
        },
      };
      spawn(() => send([event]));
    }
    return ids;
  }

  async function handleControl(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    const body =
      req.method === 'POST' ? (JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>) : {};
    switch (`${req.method} ${path}`) {
      case 'GET /control/submits':
        return json(res, 200, { submits });
      case 'GET /control/callbacks':
        return json(res, 200, { callbacks });
      case 'GET /control/tokens':
        return json(res, 200, { requests: tokenRequestCount, issued: tokens.size });
      case 'POST /control/tokens/revoke':
        api.revokeTokens();
        return json(res, 200, { revoked: true });
      case 'POST /control/outcomes':
        api.setOutcome(String(body.phoneNumber), body as unknown as Outcome);
        return json(res, 200, { ok: true });
      case 'POST /control/answers':
        api.answerNext(body as unknown as SubmitAnswer);
        return json(res, 200, { ok: true });
      case 'POST /control/callbacks':
        api.controlCallbacks(body as { duplicate?: boolean; hold?: boolean });
        return json(res, 200, { ok: true });
      case 'POST /control/application':
        api.setApplication(body as { callbackUrl?: string; username?: string; password?: string });
        return json(res, 200, { ok: true });
      case 'POST /control/inbound':
        return json(res, 200, { ids: api.injectInbound(body as unknown as InboundInjection) });
      default:
        return json(res, 404, { error: `no control ${req.method} ${path}` });
    }
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const handle = async () => {
      if (path.startsWith('/control/')) return handleControl(req, res, path);
      if (req.method === 'POST' && path === '/api/v1/oauth2/token') return handleToken(req, res);
      const create = /^\/api\/v2\/users\/([^/]+)\/messages$/.exec(path);
      if (create && req.method === 'POST') return handleCreate(req, res, decodeURIComponent(create[1]!));
      const mediaGet = /^\/api\/v2\/users\/([^/]+)\/media\/(.+)$/.exec(path);
      if (mediaGet && req.method === 'GET') {
        if (!bearerValid(req.headers.authorization)) {
          return json(res, 401, { type: 'unauthorized', description: 'Authentication Failed' });
        }
        const found = media.get(mediaGet[2]!);
        if (!found || mediaGet[1] !== opts.accountId) {
          return json(res, 404, {
            timestamp: new Date().toISOString(),
            status: 404,
            error: 'Not Found',
            message: 'No message available',
            path,
          });
        }
        res.writeHead(200, {
          'content-type': found.contentType,
          'content-length': String(found.bytes.length),
        });
        return res.end(found.bytes);
      }
      return json(res, 404, {
        timestamp: new Date().toISOString(),
        status: 404,
        error: 'Not Found',
        message: 'No message available',
        path,
      });
    };
    handle().catch((err: unknown) => {
      log(`request failed: ${String(err)}`);
      if (!res.headersSent) json(res, 400, { type: 'request-validation', description: 'unreadable request' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const baseUrl = `${url}/api/v2`;

  const api: BandwidthEmulator = {
    url,
    baseUrl,
    tokenUrl: `${url}/api/v1/oauth2/token`,
    submits,
    callbacks,
    tokenRequests: () => tokenRequestCount,
    revokeTokens: () => tokens.clear(),
    setOutcome(phoneNumber, outcome) {
      outcomes.set(phoneNumber, outcome);
    },
    answerNext(answer) {
      answers.push({ ...answer });
    },
    controlCallbacks(control) {
      if (control.duplicate !== undefined) duplicate = control.duplicate;
      if (control.hold !== undefined) hold = control.hold;
      if (!hold) for (const release of held.splice(0)) release();
    },
    setApplication(target) {
      if (target.callbackUrl !== undefined) {
        application.url = target.callbackUrl;
        application.set = true;
      }
      if (target.username !== undefined) application.username = target.username;
      if (target.password !== undefined) application.password = target.password;
      if (!hold) for (const release of held.splice(0)) release();
    },
    injectInbound,
    async close() {
      closing.abort();
      await Promise.allSettled([...tasks]);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  return api;
}
