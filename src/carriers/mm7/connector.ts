/**
 * The MM7 connector: one SubmitReq per group, every recipient in Recipients/To, so handsets thread
 * it as one conversation. MM7 has no idempotency key: a submit whose answer was lost (timeout,
 * reset) is retried and the MMSC may deliver it twice, as with Kannel and Mbuni.
 */
import { type Dispatcher, request } from 'undici';
import { networkReason, readCapped } from '../provider-http.ts';
import type { CarrierConnector, CarrierSubmission, SubmitResult } from '../types.ts';
import { decodeText, parseContentType, parseEntity, splitMultipart } from './mime.ts';
import { readMm7Answer } from './responses.ts';
import {
  carrierError,
  classifyHttpStatus,
  classifyMm7Status,
  isMm7Success,
  NETWORK_FAILURE,
  type SubmitFailureClass,
} from './status-map.ts';
import { buildSubmitReq } from './submit-req.ts';

export interface Mm7Settings {
  name: string;
  url: string;
  vaspId?: string;
  vasId?: string;
  serviceCode?: string;
  username?: string;
  password?: string;
  /** MM7 schema ('REL-6-MM7-1-4', the default) or an MM7Version ('6.8.0'). */
  mm7Version: string;
  defaultCountry: string;
  timeoutMs?: number;
}

export const MM7_DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ANSWER_BYTES = 1024 * 1024;

export function createMm7Connector(
  settings: Mm7Settings,
  deps: { dispatcher?: Dispatcher } = {},
): CarrierConnector {
  const timeoutMs = settings.timeoutMs ?? MM7_DEFAULT_TIMEOUT_MS;
  const authorization =
    settings.username !== undefined
      ? `Basic ${Buffer.from(`${settings.username}:${settings.password ?? ''}`).toString('base64')}`
      : undefined;

  return {
    name: settings.name,
    async submit(submission: CarrierSubmission): Promise<SubmitResult> {
      const transactionId = `${submission.messageId}-${submission.attempt}`;
      const media = await Promise.all(
        submission.media.map(async (m) => ({
          contentType: m.contentType,
          bytes: await m.read(),
          filename: filenameOf(m.url),
        })),
      );
      const { contentType, body } = buildSubmitReq({
        transactionId,
        mm7Version: settings.mm7Version,
        vaspId: settings.vaspId,
        vasId: settings.vasId,
        serviceCode: settings.serviceCode,
        from: submission.from,
        to: submission.recipients.map((r) => r.phoneNumber),
        subject: submission.subject ?? undefined,
        text: submission.text ?? undefined,
        media,
      });

      let answer: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };
      try {
        const res = await request(settings.url, {
          method: 'POST',
          headers: {
            'content-type': contentType,
            soapaction: '""',
            ...(authorization ? { authorization } : {}),
          },
          body,
          dispatcher: deps.dispatcher,
          signal: AbortSignal.timeout(timeoutMs),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        answer = {
          status: res.statusCode,
          headers: res.headers,
          body: await readCapped(res.body, MAX_ANSWER_BYTES),
        };
      } catch (err) {
        return failure(
          NETWORK_FAILURE,
          `MM7 submit to ${settings.name} failed: ${networkReason(err, timeoutMs)}`,
        );
      }
      return interpret(answer, transactionId, submission);
    },
  };
}

function interpret(
  answer: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer },
  transactionId: string,
  submission: CarrierSubmission,
): SubmitResult {
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
  let parsed: ReturnType<typeof readMm7Answer> | undefined;
  try {
    parsed = readMm7Answer(soapXml(answer.body, headerValue(answer.headers['content-type'])));
  } catch {
    parsed = undefined;
  }

  if (parsed?.kind === 'fault' && parsed.statusCode !== undefined) {
    const text = parsed.statusText ?? parsed.faultString ?? '';
    return failure(
      classifyMm7Status(parsed.statusCode),
      `MM7 ${parsed.statusCode} ${text} (HTTP ${answer.status})`.trim(),
      retryAfterMs,
    );
  }
  if (parsed?.kind === 'response' && answer.status >= 200 && answer.status < 300) {
    if (!isMm7Success(parsed.statusCode)) {
      return failure(
        classifyMm7Status(parsed.statusCode),
        `MM7 ${parsed.statusCode} ${parsed.statusText ?? ''}`.trim(),
        retryAfterMs,
      );
    }
    const messageId = childMessageId(parsed.body) ?? transactionId;
    return {
      ok: true,
      recipients: submission.recipients.map((r) => ({
        recipientId: r.recipientId,
        accepted: true,
        carrierMessageId: messageId,
      })),
    };
  }
  if (answer.status >= 200 && answer.status < 300) {
    // The MMSC may have taken the message; MM7 cannot tell us, so a retry may duplicate it.
    return failure(NETWORK_FAILURE, `MM7 answer unreadable (HTTP ${answer.status})`, retryAfterMs);
  }
  return failure(classifyHttpStatus(answer.status), `MMSC answered HTTP ${answer.status}`, retryAfterMs);
}

function failure(cls: SubmitFailureClass, detail: string, retryAfterMs?: number): SubmitResult {
  const result: SubmitResult = { ok: false, retryable: cls.retryable, error: carrierError(cls.code, detail) };
  if (retryAfterMs !== undefined && cls.retryable) result.retryAfterMs = retryAfterMs;
  return result;
}

function childMessageId(body: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase() !== 'messageid') continue;
    const first = Array.isArray(value) ? value[0] : value;
    const text = typeof first === 'string' ? first : (first as { '#text'?: unknown } | undefined)?.['#text'];
    const id = (Array.isArray(text) ? text.join('') : typeof text === 'string' ? text : '').trim();
    if (id) return id;
  }
  return undefined;
}

/** An MMSC answers with SOAP alone or, rarely, multipart/related with the SOAP part first. */
function soapXml(body: Buffer, contentType: string | undefined): string {
  const type = parseContentType(contentType);
  if (type.type.startsWith('multipart/') && type.params.boundary) {
    const first = splitMultipart(body, type.params.boundary).map(parseEntity)[0];
    if (first) return decodeText(first.body, first.contentType.params.charset);
  }
  return decodeText(body, type.params.charset);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = headerValue(value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function filenameOf(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : undefined;
  } catch {
    return undefined;
  }
}
