import { z } from 'zod';
import { parseE164 } from '../numbers/e164.ts';
import { codedMessage } from '../validation/telnyx-issues.ts';
import { isHttpUrl } from '../validation/url.ts';

export const MAX_RECIPIENTS = 8;
export const MAX_MEDIA_URLS = 10;
const isE164 = (value: string) => parseE164(value) !== null;

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
      .nullish()
      .describe('Message body (i.e., content) as a non-empty string.'),
    subject: z.string().nullish().describe('Subject of multimedia message'),
    media_urls: z
      .array(
        z.string().refine(isHttpUrl, {
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
