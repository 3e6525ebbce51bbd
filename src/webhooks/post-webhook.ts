import { EventEmitter } from 'node:events';
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
  /**
   * Gives the attempt up early: `listener` is called when the job is aborted (JobControl.onAbort);
   * returns what removes it.
   */
  onAbort?: (listener: (reason: unknown) => void) => () => void;
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

  const deadline = new Deadline();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort(new Error(timeoutMessage(timeoutMs)));
  }, timeoutMs);
  const stopListening = options.onAbort?.((reason) => deadline.abort(reason));
  try {
    let response: Dispatcher.ResponseData;
    try {
      // undici.request never follows redirects, so a 3xx is reported rather than chased.
      response = await request(url, {
        method: 'POST',
        body,
        headers: buildHeaders(options.headers),
        dispatcher,
        signal: deadline,
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
    stopListening?.();
  }
}

/**
 * The attempt's abort signal, in the form undici also takes (an emitter with `aborted` and `reason`):
 * an AbortController with a listener on it costs several microseconds per request, this almost
 * nothing.
 */
class Deadline extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
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
  let error: { tenant: string; operator: string } | null = null;
  // Events rather than `for await`, whose promise per chunk costs more than the short bodies read.
  await new Promise<void>((resolve) => {
    if (maxBytes <= 0 || stream.destroyed || stream.readableEnded) return resolve();
    let size = 0;
    const done = () => {
      stream.off('data', onData).off('end', done).off('error', onError).off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) done();
    };
    const onError = (err: unknown) => {
      error = { tenant: describeNetworkErrorForTenant(err), operator: describeNetworkErrorForOperator(err) };
      done();
    };
    stream.on('data', onData).on('end', done).on('error', onError).on('close', done);
  });
  // Drops the connection instead of draining whatever the receiver still wants to send.
  stream.destroy();
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
