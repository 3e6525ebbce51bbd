import { z } from 'zod';
import { parseE164 } from '../numbers/e164.ts';
import { boundedString, isStorableText } from '../validation/limits.ts';
import { codedMessage } from '../validation/telnyx-issues.ts';
import { isHttpUrl, MAX_URL_LENGTH } from '../validation/url.ts';
import { countSegments, MAX_PARTS } from './encoding.ts';

export const MAX_RECIPIENTS = 8;
export const MAX_MEDIA_URLS = 10;
/** No Telnyx figure for an MMS subject; MM7/MM4 carriers truncate far below this. */
export const MAX_SUBJECT_LENGTH = 64;
const isE164 = (value: string) => parseE164(value) !== null;

// Every character costs at least one unit of a 153-septet (GSM-7) or 67-unit (UCS-2) part, so a
// longer string never fits: no need to measure a megabyte of text to refuse it.
const MAX_TEXT_UNITS = MAX_PARTS * 153;
const fitsInMaxParts = (text: string) => text.length <= MAX_TEXT_UNITS && countSegments(text) <= MAX_PARTS;
const describeParts = (text: string) =>
  text.length <= 4 * MAX_TEXT_UNITS ? String(countSegments(text)) : `more than ${MAX_PARTS}`;

const webhookUrl = z
  .string()
  .refine(isHttpUrl, {
    error: codedMessage('10003', 'The URL must be an absolute http(s) URL of at most 2000 characters.'),
  })
  .nullish();

/**
 * `CreateGroupMMSMessageRequest` from Telnyx's OpenAPI document. Each check names the Telnyx
 * error code it answers with; unknown fields are ignored, as Telnyx does.
 */
export const groupMmsRequestSchema = z
  .object({
    from: z
      .string()
      .refine(isE164, { error: codedMessage('10016') })
      .describe('Phone number, in +E.164 format, used to send the message.'),
    to: z
      .array(
        z.string().refine(isE164, {
          error: codedMessage('40310', 'Each destination must be a +E.164 phone number.'),
        }),
      )
      .min(1, { error: codedMessage('40310', 'At least one destination is required.') })
      .max(MAX_RECIPIENTS, {
        error: codedMessage('40310', `No more than ${MAX_RECIPIENTS} destinations are allowed.`),
      })
      .describe('A list of destinations. No more than 8 destinations are allowed.'),
    text: z
      .string()
      .min(1, { error: codedMessage('10015', "'text' must be a non-empty string.") })
      // Telnyx's one published limit on message text: at most 10 parts (schema `parts: maximum 10`,
      // 40302 "Message too large"). Checked before the (linear) surrogate scan and anything stored.
      .refine(fitsInMaxParts, {
        error: (issue) =>
          codedMessage(
            '40302',
            `The message would be divided into ${describeParts(String(issue.input))} parts. The maximum is ${MAX_PARTS}.`,
          ),
        abort: true,
      })
      .refine(isStorableText, {
        error: codedMessage(
          '10015',
          "'text' contains NUL or a lone UTF-16 surrogate, which cannot be stored as given.",
        ),
      })
      .nullish()
      .describe('Message body (i.e., content) as a non-empty string.'),
    subject: boundedString(MAX_SUBJECT_LENGTH)
      .refine(isStorableText, {
        error: codedMessage(
          '10015',
          "'subject' contains NUL or a lone UTF-16 surrogate, which cannot be stored as given.",
        ),
      })
      .nullish()
      .describe('Subject of multimedia message'),
    media_urls: z
      .array(
        z
          .string()
          .max(MAX_URL_LENGTH, {
            error: codedMessage('10003', `A URL must be at most ${MAX_URL_LENGTH} characters.`),
            abort: true,
          })
          .refine(isHttpUrl, {
            error: codedMessage('40317', 'Each media URL must be an absolute http(s) URL.'),
          }),
      )
      .max(MAX_MEDIA_URLS, {
        error: codedMessage('40317', `MMS can only contain up to ${MAX_MEDIA_URLS} items.`),
      })
      .nullish()
      .describe('A list of media URLs. The total media size must be less than 1 MB.'),
    webhook_url: webhookUrl.describe('The URL where webhooks related to this message will be sent.'),
    webhook_failover_url: webhookUrl.describe(
      'The failover URL where webhooks related to this message will be sent if sending to the primary URL fails.',
    ),
    use_profile_webhooks: z
      .boolean()
      .nullish()
      .describe(
        'If the profile this number is associated with has webhooks, use them for delivery notifications.',
      ),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.to.forEach((to, i) => {
      if (to === body.from) {
        ctx.addIssue({
          code: 'custom',
          path: ['to', i],
          message: codedMessage('40310', "A destination can't be the sender."),
        });
      } else if (seen.has(to)) {
        ctx.addIssue({
          code: 'custom',
          path: ['to', i],
          message: codedMessage('40310', `Duplicate destination ${to}.`),
        });
      }
      seen.add(to);
    });
    if (!body.text && !(body.media_urls && body.media_urls.length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: codedMessage('40316') });
    }
  });

export type GroupMmsRequest = z.output<typeof groupMmsRequestSchema>;
