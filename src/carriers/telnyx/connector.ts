/**
 * A Telnyx-compatible upstream (Telnyx itself, or another mms-gateway): each group goes out as one
 * `POST {baseUrl}/messages/group_mms`. The media are linked at this gateway's own `/media/<sha256>`,
 * so the upstream fetches exactly the bytes we checked; its webhooks come back to
 * `<publicUrl>/connectors/<name>/webhooks`.
 */
import { type Dispatcher, request } from 'undici';
import { networkReason, readCapped } from '../provider-http.ts';
import type { CarrierConnector, CarrierSubmission, SubmitResult } from '../types.ts';
import { networkFailure, readSubmitAnswer } from './submit-answer.ts';

export interface TelnyxUpstreamSettings {
  name: string;
  apiKey: string;
  /** Without a trailing slash, e.g. https://api.telnyx.com/v2 */
  baseUrl: string;
  messagingProfileId?: string;
  /** PUBLIC_URL: where the upstream reaches this gateway (media and webhooks). No trailing slash. */
  publicUrl: string;
  timeoutMs?: number;
}

export const TELNYX_DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ANSWER_BYTES = 1024 * 1024;

export const upstreamWebhookPath = (name: string) => `/connectors/${encodeURIComponent(name)}/webhooks`;

export function createTelnyxConnector(
  settings: TelnyxUpstreamSettings,
  deps: { dispatcher?: Dispatcher } = {},
): CarrierConnector {
  const timeoutMs = settings.timeoutMs ?? TELNYX_DEFAULT_TIMEOUT_MS;
  return {
    name: settings.name,
    async submit(submission: CarrierSubmission): Promise<SubmitResult> {
      const body = JSON.stringify(groupMmsBody(settings, submission));
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (submission.signal) signals.push(submission.signal);
      try {
        const res = await request(`${settings.baseUrl}/messages/group_mms`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${settings.apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
            // Honoured by mms-gateway (and ignored otherwise): a retry after a lost answer is not a second send.
            'idempotency-key': submission.idempotencyKey,
          },
          body,
          dispatcher: deps.dispatcher,
          signal: AbortSignal.any(signals),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const text = (await readCapped(res.body, MAX_ANSWER_BYTES)).toString('utf8');
        return readSubmitAnswer(
          settings.name,
          { status: res.statusCode, headers: res.headers, body: text },
          submission,
        );
      } catch (err) {
        return networkFailure(settings.name, networkReason(err, timeoutMs, submission.signal));
      }
    },
  };
}

function groupMmsBody(settings: TelnyxUpstreamSettings, s: CarrierSubmission): Record<string, unknown> {
  return {
    from: s.from,
    to: s.recipients.map((r) => r.phoneNumber),
    ...(s.text !== null ? { text: s.text } : {}),
    ...(s.subject !== null ? { subject: s.subject } : {}),
    ...(s.media.length > 0
      ? { media_urls: s.media.map((m) => `${settings.publicUrl}/media/${m.sha256}`) }
      : {}),
    webhook_url: `${settings.publicUrl}${upstreamWebhookPath(settings.name)}`,
    ...(settings.messagingProfileId ? { messaging_profile_id: settings.messagingProfileId } : {}),
  };
}
