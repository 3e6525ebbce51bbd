import { createHash } from 'node:crypto';
import { type Dispatcher, request } from 'undici';
import {
  describeNetworkErrorForOperator,
  describeNetworkErrorForTenant,
} from '../net/describe-network-error.ts';
import { findOutboundBlocked } from '../net/outbound-guard.ts';
import { isAllowedMmsContentType, normalizeContentType } from './allowed-types.ts';
import { sniffContentType } from './sniff.ts';

export interface FetchMediaOptions {
  /** Normally the outbound guard's dispatcher; every redirect hop goes through it too. */
  dispatcher: Dispatcher;
  maxBytes: number;
  headersTimeoutMs: number;
  /** Longest silence between body chunks. */
  bodyTimeoutMs: number;
  /** Whole fetch, redirects included: cuts off servers that trickle bytes forever. */
  totalTimeoutMs: number;
  maxRedirects: number;
  userAgent?: string;
  /** Aborts the fetch from outside (a message's time budget ran out, or a sibling URL failed). */
  signal?: AbortSignal;
  /**
   * A byte budget shared with the other URLs of the same message, fetched at the same time: every
   * chunk read counts against it, and the fetch fails as `too_large` once `used` exceeds `limit`.
   */
  sharedBytes?: { used: number; limit: number };
}

export interface FetchedMedia {
  ok: true;
  url: string;
  contentType: string;
  size: number;
  /** Lowercase hex. */
  sha256: string;
  bytes: Buffer;
}

export type MediaFetchFailureReason =
  | 'too_large'
  | 'disallowed_type'
  | 'http_status'
  | 'timeout'
  | 'blocked_address'
  | 'too_many_redirects'
  | 'network'
  | 'invalid_url';

export interface MediaFetchFailure {
  ok: false;
  url: string;
  reason: MediaFetchFailureReason;
  /** Safe to show the tenant: no address or port of the operator's network. */
  detail: string;
  /** The full error, for the operator's log only. */
  operatorDetail?: string;
}

type Outcome = FetchedMedia | MediaFetchFailure;
type Fail = (reason: MediaFetchFailureReason, detail: string, operatorDetail?: string) => MediaFetchFailure;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Downloads one media URL with a hard byte cap, timeouts, manual redirects and an MMS type check. */
export async function fetchMedia(url: string, opts: FetchMediaOptions): Promise<Outcome> {
  const fail: Fail = (reason, detail, operatorDetail) => ({
    ok: false,
    url,
    reason,
    detail,
    ...(operatorDetail === undefined ? {} : { operatorDetail }),
  });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.totalTimeoutMs);
  const signal = opts.signal ? AbortSignal.any([controller.signal, opts.signal]) : controller.signal;
  try {
    return await followRedirects(url, opts, signal, fail);
  } catch (err) {
    if (signal.aborted) {
      return fail('timeout', `no complete response within ${opts.totalTimeoutMs} ms`);
    }
    return classifyError(err, opts, fail);
  } finally {
    clearTimeout(timer);
  }
}

async function followRedirects(
  url: string,
  opts: FetchMediaOptions,
  signal: AbortSignal,
  fail: Fail,
): Promise<Outcome> {
  let current = parseHttpUrl(url);
  if (typeof current === 'string') return fail('invalid_url', current);
  const visited = new Set<string>();
  for (let redirects = 0; ; redirects++) {
    visited.add(current.href);
    const res = await request(current, {
      dispatcher: opts.dispatcher,
      method: 'GET',
      headers: { accept: '*/*', 'user-agent': opts.userAgent ?? 'mms-gateway' },
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      signal,
    });
    if (!REDIRECT_STATUSES.has(res.statusCode)) return readResponse(url, res, opts, fail);

    discard(res.body);
    const location = firstHeader(res.headers.location);
    if (location === undefined) {
      return fail(
        'http_status',
        `HTTP ${res.statusCode} redirect from ${current.href} without a Location header`,
      );
    }
    if (redirects >= opts.maxRedirects) {
      return fail('too_many_redirects', `more than ${opts.maxRedirects} redirects (last at ${current.href})`);
    }
    const next = parseHttpUrl(location, current);
    if (typeof next === 'string') return fail('invalid_url', `redirect from ${current.href}: ${next}`);
    if (visited.has(next.href)) {
      return fail('too_many_redirects', `redirect loop: ${current.href} redirects back to ${next.href}`);
    }
    current = next;
  }
}

async function readResponse(
  url: string,
  res: Dispatcher.ResponseData,
  opts: FetchMediaOptions,
  fail: Fail,
): Promise<Outcome> {
  if (res.statusCode < 200 || res.statusCode > 299) {
    discard(res.body);
    return fail('http_status', `HTTP ${res.statusCode}`);
  }
  const declaredLength = Number(firstHeader(res.headers['content-length']) ?? Number.NaN);
  if (declaredLength > opts.maxBytes) {
    discard(res.body);
    return fail('too_large', `Content-Length ${declaredLength} exceeds the ${opts.maxBytes}-byte limit`);
  }
  const declaredType = normalizeContentType(firstHeader(res.headers['content-type']));
  const needsSniffing = declaredType === null || declaredType === 'application/octet-stream';
  if (!needsSniffing && !isAllowedMmsContentType(declaredType)) {
    discard(res.body);
    return fail('disallowed_type', `content type ${declaredType} is not allowed in MMS`);
  }

  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Whatever Content-Length said: stop reading (and drop the connection) once over the cap.
    if (size > opts.maxBytes) {
      discard(res.body);
      return fail('too_large', `body exceeded the ${opts.maxBytes}-byte limit`);
    }
    if (opts.sharedBytes) {
      opts.sharedBytes.used += chunk.length;
      if (opts.sharedBytes.used > opts.sharedBytes.limit) {
        discard(res.body);
        return fail('too_large', `the message's media exceeded ${opts.sharedBytes.limit} bytes together`);
      }
    }
    hash.update(chunk);
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks, size);

  const contentType = needsSniffing ? sniffContentType(bytes) : declaredType;
  if (contentType === null) {
    return fail(
      'disallowed_type',
      `content type ${declaredType ?? '(none)'} and not recognisable from its bytes`,
    );
  }
  if (!isAllowedMmsContentType(contentType)) {
    return fail('disallowed_type', `content type ${contentType} (sniffed) is not allowed in MMS`);
  }
  return { ok: true, url, contentType, size, sha256: hash.digest('hex'), bytes };
}

function classifyError(err: unknown, opts: FetchMediaOptions, fail: Fail): MediaFetchFailure {
  const operatorDetail = describeNetworkErrorForOperator(err);
  if (findOutboundBlocked(err))
    return fail('blocked_address', describeNetworkErrorForTenant(err), operatorDetail);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return fail('timeout', `no response headers within ${opts.headersTimeoutMs} ms`);
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return fail('timeout', `response body stalled for more than ${opts.bodyTimeoutMs} ms`);
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return fail('timeout', 'connect timed out', operatorDetail);
  return fail('network', describeNetworkErrorForTenant(err), operatorDetail);
}

function parseHttpUrl(text: string, base?: URL): URL | string {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    return `not a valid URL: ${JSON.stringify(text)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `unsupported scheme ${url.protocol} (only http and https)`;
  }
  return url;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Drops an unread body; destroying a body that has not ended emits an abort error nobody needs. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}
