import { z } from 'zod';
import { ApiError, telnyxError } from '../errors/api-error.ts';
import type { FetchMessageMediaResult } from '../media/fetch-message-media.ts';
import type { MediaStore } from '../media/media-store.ts';
import { MAX_MEDIA_URLS, MAX_RECIPIENTS } from '../messages/group-mms-schema.ts';
import { parseE164 } from '../numbers/e164.ts';
import type { MessageWithRecipients } from '../store/sql/messages.ts';
import type { Store } from '../store/store.ts';
import { isStorableText } from '../validation/limits.ts';
import { codedMessage, parseWithTelnyxErrors } from '../validation/telnyx-issues.ts';
import { isHttpUrl } from '../validation/url.ts';
import type { ReceivedMessage, ReceiveOutcome } from './receive-message.ts';

/** Longest text a simulated handset sends: ten 153-character parts, as a send allows. */
const MAX_TEXT_LENGTH = 10 * 153;
const isE164 = (value: string) => parseE164(value) !== null;
const e164 = (code: '40305' | '40310', what: string) =>
  z.string().refine(isE164, { error: codedMessage(code, `${what} must be a +E.164 phone number.`) });

/** `POST /v2/simulator/messages`: a message from any simulated handset to one of the caller's numbers. */
export const handsetMessageSchema = z
  .object({
    from: e164('40305', "'from'"),
    to: e164('40310', "'to'"),
    cc: z
      .array(e164('40310', 'Each cc'))
      .max(MAX_RECIPIENTS - 1, {
        error: codedMessage('40310', `No more than ${MAX_RECIPIENTS - 1} cc numbers are allowed.`),
      })
      .default([]),
    text: z
      .string()
      .min(1, { error: codedMessage('10015', "'text' must be a non-empty string.") })
      .max(MAX_TEXT_LENGTH, { error: codedMessage('40302', `At most ${MAX_TEXT_LENGTH} characters.`) })
      .refine(isStorableText, {
        error: codedMessage('10015', "'text' holds characters that cannot be stored."),
      })
      .optional(),
    media_urls: z
      .array(
        z.string().refine(isHttpUrl, {
          error: codedMessage('40317', 'Each media URL must be an absolute http(s) URL.'),
        }),
      )
      .max(MAX_MEDIA_URLS, { error: codedMessage('40317', `At most ${MAX_MEDIA_URLS} media URLs.`) })
      .default([]),
  })
  .refine((m) => m.text !== undefined || m.media_urls.length > 0, {
    error: codedMessage('10004', "'text' or 'media_urls' is required."),
    path: ['text'],
  });

export type HandsetMessage = z.output<typeof handsetMessageSchema>;

/** Bad input to the simulator's routes: Telnyx error objects, answered 422. */
export function parseHandsetMessage(body: unknown): HandsetMessage {
  try {
    return parseWithTelnyxErrors(handsetMessageSchema, body);
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw new ApiError(422, err.errors);
    throw err;
  }
}

export interface HandsetDeps {
  store: Store;
  mediaStore: MediaStore;
  /** The media fetcher of outbound sends: the outbound guard, the MMS type and size checks. */
  fetchMedia(urls: string[]): Promise<FetchMessageMediaResult>;
  /** The inbound intake. */
  receive(message: ReceivedMessage): Promise<ReceiveOutcome>;
  onWork(): void;
}

const notOurs = (pointer: string, phone: string) =>
  new ApiError(404, [
    telnyxError('10005', {
      pointer,
      detail: `${phone} is not a phone number of your organization.`,
    }),
  ]);

/**
 * A simulated handset sends a message: `to` must be a number of the caller's organization, and no
 * cc may be another organization's (a tenant cannot write into someone else's inbox). The media are
 * fetched as a send's are, then the message goes through the inbound intake exactly as a carrier's
 * would. Returns the caller's inbound message as stored.
 */
export async function sendFromHandset(
  deps: HandsetDeps,
  organizationId: string,
  m: HandsetMessage,
): Promise<MessageWithRecipients> {
  const owned = await deps.store.numbers.findByNumbers([m.to, ...m.cc]);
  const ownerOf = new Map(owned.map((n) => [n.phone_number, n.organization_id]));
  if (ownerOf.get(m.to) !== organizationId) throw notOurs('/to', m.to);
  for (const [i, phone] of m.cc.entries()) {
    const owner = ownerOf.get(phone);
    if (owner !== undefined && owner !== organizationId) throw notOurs(`/cc/${i}`, phone);
  }

  const media: ReceivedMessage['media'] = [];
  if (m.media_urls.length > 0) {
    const fetched = await deps.fetchMedia(m.media_urls);
    if (!fetched.ok) {
      const { code, detail } = fetched.error;
      throw new ApiError(422, [telnyxError(code, { detail, pointer: '/media_urls' })]);
    }
    for (const ref of fetched.media) {
      media.push({ contentType: ref.contentType, bytes: await deps.mediaStore.read(ref.sha256) });
    }
  }

  const outcome = await deps.receive({
    connector: 'simulator',
    carrierMessageId: null,
    from: m.from,
    to: [m.to],
    cc: m.cc.filter((p) => p !== m.to),
    bcc: [],
    subject: null,
    text: m.text ?? null,
    media,
    details: { simulatedHandset: true },
  });
  if (outcome.webhooks > 0) deps.onWork();
  for (const id of outcome.messageIds) {
    const stored = await deps.store.messages.getForOrganization(organizationId, id);
    if (stored) return stored;
  }
  throw new Error(
    `the intake kept no message for organization ${organizationId} (receipt ${outcome.receiptId})`,
  );
}
