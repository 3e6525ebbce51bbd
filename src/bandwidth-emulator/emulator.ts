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
 * - A control API under `/control` (control-api.ts) to script outcomes and read what it saw.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCallbackQueue } from './callback-queue.ts';
import { checkMessageRequest } from './check-request.ts';
import { handleControl } from './control-api.ts';
import { bandwidthMessageId, inboundEvent, statusEvents } from './events.ts';
import { json, readBody } from './http-helpers.ts';
import type { CallbackTarget } from './post-callback.ts';
import type {
  BandwidthEmulator,
  BandwidthEmulatorOptions,
  InboundInjection,
  Outcome,
  ReceivedSubmit,
  SubmitAnswer,
} from './types.ts';

export { bandwidthMessageId } from './events.ts';
export type * from './types.ts';

export async function startBandwidthEmulator(opts: BandwidthEmulatorOptions): Promise<BandwidthEmulator> {
  const log = opts.log ?? (() => {});
  const lifetime = opts.tokenLifetimeSeconds ?? 3600;
  const delayMs = opts.callbackDelayMs ?? 20;
  const application: CallbackTarget & { set: boolean } = {
    url: opts.callbackUrl ?? '',
    username: opts.callbackUsername,
    password: opts.callbackPassword,
    set: opts.callbackUrl !== undefined,
  };
  const queue = createCallbackQueue(application, {
    retryMs: opts.callbackRetryMs ?? 200,
    retryMaxMs: opts.callbackRetryMaxMs ?? 5000,
    timeoutMs: opts.callbackTimeoutMs ?? 10_000,
    maxAttempts: opts.callbackMaxAttempts ?? 100,
    log,
  });
  const tokens = new Map<string, number>();
  let tokenRequestCount = 0;
  const submits: ReceivedSubmit[] = [];
  const outcomes = new Map<string, Outcome>();
  const answers: SubmitAnswer[] = [];
  const media = new Map<string, { contentType: string; bytes: Buffer }>();

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
    const { sent, finals } = statusEvents(message, r.to, (to) => outcomes.get(to));
    queue.spawn(async (sleep) => {
      await sleep(delayMs);
      for (const event of sent) await queue.send([event]);
      for (const event of finals) await queue.send([event]);
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
      const event = inboundEvent({
        id,
        owner,
        applicationId: opts.applicationId,
        from: input.from,
        to: input.to,
        text: input.text ?? '',
        media: urls,
      });
      queue.spawn(() => queue.send([event]));
    }
    return ids;
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const handle = async () => {
      if (path.startsWith('/control/')) return handleControl(api, req, res, path);
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
    callbacks: queue.callbacks,
    tokenRequests: () => tokenRequestCount,
    tokensIssued: () => tokens.size,
    revokeTokens: () => tokens.clear(),
    setOutcome(phoneNumber, outcome) {
      outcomes.set(phoneNumber, outcome);
    },
    answerNext(answer) {
      answers.push({ ...answer });
    },
    controlCallbacks(control) {
      queue.control(control);
    },
    setApplication(target) {
      if (target.callbackUrl !== undefined) {
        application.url = target.callbackUrl;
        application.set = true;
      }
      if (target.username !== undefined) application.username = target.username;
      if (target.password !== undefined) application.password = target.password;
      queue.release();
    },
    injectInbound,
    async close() {
      await queue.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  return api;
}
