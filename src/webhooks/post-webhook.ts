import { type Dispatcher, request } from 'undici';
import {
  describeNetworkErrorForOperator,
  describeNetworkErrorForTenant,
} from '../net/describe-network-error.ts';
import { isOutboundBlocked } from '../net/outbound-guard.ts';

export type WebhookOutcome = 'delivered' | 'retry' | 'gone' | 'failed';

export interface WebhookAttemptResult {
  outcome: WebhookOutcome;
  statusCode: number | null;
  durationMs: number;
  /** At most `maxResponseBytes` of the response body, decoded as UTF-8. */
  responseBody: string | null;
  /** Shown to the tenant: the kind of failure, never an address or port of the operator's network. */
  error: string | null;
  /** The full failure, for the operator's log only. */
  operatorError: string | null;
  /** From the `Retry-After` header of a `retry` response; the scheduler caps it. */
  retryAfterMs: number | null;
}

export interface PostWebhookOptions {
  url: string;
  body: string;
  /** Usually the signature headers. `content-type` and `user-agent` are always ours. */
  headers: Record<string, string>;
  /** Normally the outbound guard, which refuses private addresses. */
  dispatcher: Dispatcher;
  /** Deadline for the whole attempt: connect, response headers and the (bounded) body read. */
  timeoutMs: number;
  maxResponseBytes?: number;
  /** Gives the attempt up early (the job was aborted). */
  signal?: AbortSignal;
}

const USER_AGENT = 'mms-gateway';

/** One delivery attempt. Never throws for network or HTTP failures: they become the outcome. */
export async function postWebhook(options: PostWebhookOptions): Promise<WebhookAttemptResult> {
  const { url, body, dispatcher, timeoutMs, maxResponseBytes = 1024 } = options;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  const invalid = invalidUrlReason(url);
  if (invalid) return failure('failed', elapsed(), invalid);

  // One controller for the deadline and the caller's signal (AbortSignal.any costs far more per
  // request: weak references and a signal to collect).
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort();
  }, timeoutMs);
  const outer = options.signal;
  const forward = () => deadline.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  try {
    let response: Dispatcher.ResponseData;
    try {
      // undici.request never follows redirects, so a 3xx is reported rather than chased.
      response = await request(url, {
        method: 'POST',
        body,
        headers: buildHeaders(options.headers),
        dispatcher,
        signal: deadline.signal,
      });
    } catch (err) {
      const message = timedOut ? timeoutMessage(timeoutMs) : describeNetworkErrorForTenant(err);
      const full = describeNetworkErrorForOperator(err);
      // A URL refused by the outbound guard will be refused every time: retire it like a 410.
      if (isOutboundBlocked(err)) return failure('gone', elapsed(), message, full);
      return failure(isInvalidArgument(err) ? 'failed' : 'retry', elapsed(), message, full);
    }

    const { statusCode } = response;
    const outcome = classifyStatus(statusCode);
    // The status is already decided; a body that stalls or breaks only costs us the log excerpt.
    const read = await readBounded(response.body, maxResponseBytes);
    const bodyError = read.error && (timedOut ? timeoutMessage(timeoutMs) : read.error.tenant);
    return {
      outcome,
      statusCode,
      durationMs: elapsed(),
      responseBody: read.text,
      error: bodyError ? `reading response body: ${bodyError}` : null,
      operatorError: read.error ? `reading response body: ${read.error.operator}` : null,
      retryAfterMs: outcome === 'retry' ? parseRetryAfter(response.headers['retry-after'], Date.now()) : null,
    };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

export function classifyStatus(statusCode: number): WebhookOutcome {
  if (statusCode >= 200 && statusCode < 300) return 'delivered';
  if (statusCode === 410) return 'gone';
  if (statusCode === 429 || (statusCode >= 500 && statusCode < 600)) return 'retry';
  return 'failed';
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  // All three HTTP-date forms start with a day name; Date.parse alone would accept e.g. "-5" as a year.
  if (!/^[A-Za-z]{3,9},? /.test(raw)) return null;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

function buildHeaders(extra: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = value;
  headers['content-type'] = 'application/json';
  headers['user-agent'] = USER_AGENT;
  return headers;
}

async function readBounded(
  stream: Dispatcher.ResponseData['body'],
  maxBytes: number,
): Promise<{ text: string; error: { tenant: string; operator: string } | null }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let error: { tenant: string; operator: string } | null = null;
  try {
    if (maxBytes > 0) {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        chunks.push(buf);
        size += buf.length;
        if (size >= maxBytes) break;
      }
    }
  } catch (err) {
    error = { tenant: describeNetworkErrorForTenant(err), operator: describeNetworkErrorForOperator(err) };
  } finally {
    // Drops the connection instead of draining whatever the receiver still wants to send.
    stream.destroy();
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
  return { text, error };
}

function invalidUrlReason(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `invalid webhook URL: ${url}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `unsupported webhook URL scheme: ${parsed.protocol}`;
  }
  return null;
}

function failure(
  outcome: WebhookOutcome,
  durationMs: number,
  error: string,
  operatorError: string = error,
): WebhookAttemptResult {
  return {
    outcome,
    statusCode: null,
    durationMs,
    responseBody: null,
    error,
    operatorError,
    retryAfterMs: null,
  };
}

function timeoutMessage(timeoutMs: number): string {
  return `timed out after ${timeoutMs}ms`;
}

function isInvalidArgument(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'UND_ERR_INVALID_ARG';
}
