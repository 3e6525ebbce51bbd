/**
 * The Bandwidth v2 Messaging connector: one `POST {base}/users/{accountId}/messages` per group with
 * every recipient in `to`, an OAuth 2.0 bearer token (cached, fetched again once on a 401), media as
 * links to the gateway's own copy of the checked bytes, and `tag` = our message id. A 202 only means
 * Bandwidth queued it: each recipient stays `sending` until its `message-sending`/`message-sent`
 * callback, and callbacks match by Bandwidth's message id and the recipient's number.
 */
import { request } from 'undici';
import type { BandwidthConnectorSettings } from '../connector-settings.ts';
import { networkReason, readCapped } from '../provider-http.ts';
import type { CarrierConnector, CarrierSubmission, SubmitResult } from '../types.ts';
import {
  carrierError,
  classifySubmitStatus,
  NETWORK_FAILURE,
  type SubmitFailureClass,
} from './error-codes.ts';
import { parseRetryAfter } from './retry-after.ts';
import { bandwidthToken, forgetBandwidthToken, TokenError } from './token.ts';

export interface BandwidthConnectorOptions {
  name: string;
  settings: BandwidthConnectorSettings;
  /** The gateway's public base URL: media go out as `<publicUrl>/media/<sha256>`. */
  publicUrl: string;
  timeoutMs?: number;
  /** The clock token lifetimes are read on (tests move it). */
  now?: () => number;
}

export const BANDWIDTH_DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ANSWER_BYTES = 256 * 1024;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function createBandwidthConnector(opts: BandwidthConnectorOptions): CarrierConnector {
  const s = opts.settings;
  const timeoutMs = opts.timeoutMs ?? BANDWIDTH_DEFAULT_TIMEOUT_MS;
  const credentials = { tokenUrl: s.tokenUrl, clientId: s.clientId, clientSecret: s.clientSecret };
  const url = `${s.baseUrl}/users/${encodeURIComponent(s.accountId)}/messages`;

  async function post(body: string, token: string, signal: AbortSignal): Promise<Answer> {
    const res = await request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json; charset=utf-8',
        accept: 'application/json',
      },
      body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return {
      status: res.statusCode,
      headers: res.headers,
      text: (await readCapped(res.body, MAX_ANSWER_BYTES)).toString('utf8'),
    };
  }

  return {
    name: opts.name,
    async submit(submission: CarrierSubmission): Promise<SubmitResult> {
      const body = JSON.stringify({
        applicationId: s.applicationId,
        to: submission.recipients.map((r) => r.phoneNumber),
        from: submission.from,
        ...(submission.text ? { text: submission.text } : {}),
        ...(submission.media.length > 0
          ? { media: submission.media.map((m) => `${opts.publicUrl}/media/${m.sha256}`) }
          : {}),
        tag: submission.messageId,
      });
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = submission.signal ? AbortSignal.any([submission.signal, timeout]) : timeout;

      let answer: Answer;
      try {
        let token = await bandwidthToken(credentials, { signal, now: opts.now });
        answer = await post(body, token, signal);
        if (answer.status === 401) {
          // Revoked or expired early: one new token, one more try.
          forgetBandwidthToken(credentials, token);
          token = await bandwidthToken(credentials, { signal, now: opts.now });
          answer = await post(body, token, signal);
        }
      } catch (err) {
        if (err instanceof TokenError) {
          const cls = err.refused ? { retryable: false, code: '10009' as const } : NETWORK_FAILURE;
          return failure(cls, `Bandwidth OAuth: ${err.message}`);
        }
        return failure(NETWORK_FAILURE, `Bandwidth submit failed: ${networkReason(err, timeoutMs)}`);
      }

      if (answer.status === 202 || answer.status === 200 || answer.status === 201) {
        const id = messageIdOf(answer.text);
        if (!id) {
          // It may have been queued; Bandwidth has no idempotency key, so a retry may send it twice.
          return failure(NETWORK_FAILURE, `Bandwidth answered ${answer.status} without a message id`);
        }
        return {
          ok: true,
          recipients: submission.recipients.map((r) => ({
            recipientId: r.recipientId,
            accepted: true,
            carrierMessageId: id,
            awaitingSent: true,
          })),
        };
      }
      return failure(
        classifySubmitStatus(answer.status),
        `Bandwidth HTTP ${answer.status}${describeError(answer.text)}`,
        parseRetryAfter(answer.headers['retry-after']),
      );
    },
  };
}

function failure(cls: SubmitFailureClass, detail: string, retryAfterMs?: number): SubmitResult {
  const result: SubmitResult = { ok: false, retryable: cls.retryable, error: carrierError(cls.code, detail) };
  if (retryAfterMs !== undefined && cls.retryable) result.retryAfterMs = retryAfterMs;
  return result;
}

function messageIdOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { id?: unknown };
    return typeof body.id === 'string' && body.id !== '' ? body.id : undefined;
  } catch {
    return undefined;
  }
}

/** `: <type> <description>` of Bandwidth's JSON error (`{type, description, fieldErrors?}`), or the 404 shape. */
function describeError(text: string): string {
  try {
    const b = JSON.parse(text) as {
      type?: unknown;
      description?: unknown;
      error?: unknown;
      message?: unknown;
      fieldErrors?: Array<{ fieldName?: unknown; description?: unknown }>;
    };
    const parts = [b.type ?? b.error, b.description ?? b.message].filter(
      (p): p is string => typeof p === 'string' && p !== '',
    );
    if (Array.isArray(b.fieldErrors)) {
      for (const f of b.fieldErrors.slice(0, 5)) {
        if (typeof f?.fieldName === 'string') parts.push(`${f.fieldName}: ${String(f.description ?? '')}`);
      }
    }
    return parts.length > 0 ? `: ${parts.join(' ').slice(0, 500)}` : '';
  } catch {
    return '';
  }
}
