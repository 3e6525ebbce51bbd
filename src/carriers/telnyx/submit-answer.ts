/**
 * The written table that turns a Telnyx-compatible upstream's answer to `POST /messages/group_mms`
 * into a submit result. The README's "Telnyx-compatible upstream" section repeats it; change both.
 *
 * - 2xx with `data.id`: accepted; every recipient waits for the upstream's `message.sent`.
 * - 408, 429 and 5xx: retryable, after `Retry-After` when given; the upstream's own error is kept.
 * - any other 4xx: permanent; the upstream's first error (Telnyx code, title, detail) is kept as is
 *   (without a detail of its own: "<connector> answered HTTP <status>").
 *   Without one: 401/403 → 10009, anything else → 40008.
 * - 2xx without a readable id, refused connections, resets and timeouts: retryable 40006 (the
 *   submit carries an Idempotency-Key, so an upstream that honours it does not send twice).
 */
import { ERRORS, type ErrorCode } from '../../errors/catalogue.ts';
import type { CarrierError, CarrierSubmission, SubmitResult } from '../types.ts';

export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const catalogued = (code: ErrorCode, detail: string): CarrierError => ({
  code,
  title: ERRORS[code].title,
  detail,
});

export function readSubmitAnswer(
  connector: string,
  answer: UpstreamAnswer,
  submission: Pick<CarrierSubmission, 'recipients'>,
): SubmitResult {
  const json = parseJson(answer.body);
  if (answer.status >= 200 && answer.status < 300) {
    const id = (json as { data?: { id?: unknown } } | undefined)?.data?.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
      return {
        ok: false,
        retryable: true,
        error: catalogued('40006', `${connector} answered HTTP ${answer.status} without a message id`),
      };
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
  const retryable = answer.status === 408 || answer.status === 429 || answer.status >= 500;
  const error =
    upstreamError(json, connector, answer.status) ??
    catalogued(
      retryable ? '40006' : answer.status === 401 || answer.status === 403 ? '10009' : '40008',
      `${connector} answered HTTP ${answer.status}`,
    );
  const result: SubmitResult = { ok: false, retryable, error };
  const retryAfterMs = retryable ? parseRetryAfter(answer.headers['retry-after']) : undefined;
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  return result;
}

export function networkFailure(connector: string, reason: string): SubmitResult {
  return {
    ok: false,
    retryable: true,
    error: catalogued('40006', `submit to ${connector} failed: ${reason}`),
  };
}

/** The first error of a Telnyx error body, code, title and detail kept as the upstream gave them. */
function upstreamError(json: unknown, connector: string, status: number): CarrierError | undefined {
  const first = (json as { errors?: unknown } | undefined)?.errors;
  const e = Array.isArray(first) ? (first[0] as Record<string, unknown> | undefined) : undefined;
  if (!e || (typeof e.code !== 'string' && typeof e.code !== 'number')) return undefined;
  const code = String(e.code).slice(0, 32);
  const title = typeof e.title === 'string' ? e.title.slice(0, 256) : `Upstream error ${code}`;
  const detail = typeof e.detail === 'string' ? e.detail.slice(0, 1024) : undefined;
  return { code, title, detail: detail ?? `${connector} answered HTTP ${status}` };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
