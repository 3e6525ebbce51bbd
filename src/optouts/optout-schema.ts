import { z } from 'zod';
import { pageQuerySchema } from '../api/query.ts';
import { dateTime, paginationMetaSchema } from '../api/schemas/common.ts';
import { boundedString, isStorableText } from '../validation/limits.ts';
import { codedMessage } from '../validation/telnyx-issues.ts';
import { FIXED_KEYWORDS, MAX_KEYWORD_LENGTH, normaliseKeyword } from './keywords.ts';

const storable = (s: z.ZodString) =>
  s.refine(isStorableText, {
    error: codedMessage('10015', 'The value contains NUL or a lone UTF-16 surrogate.'),
  });

/** A date-time query filter; compared as the gateway stores times (ISO 8601 UTC, milliseconds). */
const timeFilter = z.iso
  .datetime({ offset: true, error: codedMessage('10015', 'Expected an ISO 8601 date-time.') })
  .describe('ISO 8601 date-time');

const range = (what: string) =>
  z
    .object({ gte: timeFilter.optional(), lte: timeFilter.optional() })
    .optional()
    .describe(`Consolidated ${what} parameter (deepObject style). Originally: ${what}[gte], ${what}[lte]`);

/** `GET /v2/messaging_optouts` query (Telnyx's ListOptOuts). */
export const optOutListQuerySchema = z.object({
  filter: z
    .object({
      messaging_profile_id: storable(boundedString(64))
        .optional()
        .describe('The ID of the messaging profile to retrieve opt-outs for'),
      from: storable(boundedString(64))
        .optional()
        .describe(
          'The sending address (+E.164) to retrieve opt-outs for: the number the keyword was sent to.',
        ),
    })
    .optional()
    .describe(
      'Consolidated filter parameter (deepObject style). Originally: filter[messaging_profile_id], filter[from]',
    ),
  created_at: range('created_at'),
  redaction_enabled: z
    .enum(['true', 'false'])
    .optional()
    .describe('If receiving address (+E.164 formatted phone number) should be redacted'),
  page: pageQuerySchema,
});

export const optOutItemSchema = z
  .object({
    from: z
      .string()
      .describe('Our number the opt-out keyword was sent to; every number of the profile is blocked.'),
    to: z.string().describe('The number that opted out.'),
    keyword: z.string().nullable().describe('The keyword that triggered the opt-out.'),
    messaging_profile_id: z.string().nullable(),
    created_at: dateTime(),
  })
  .meta({ id: 'OptOutItem' });

export const optOutListResponseSchema = z.object({
  data: z.array(optOutItemSchema),
  meta: paginationMetaSchema,
});

const ops = z.enum(['start', 'stop', 'info'], {
  error: (issue) =>
    issue.input === undefined ? codedMessage('10004', "The 'op' parameter is required.") : undefined,
});

/** Body of creating or replacing an auto-response setting (Telnyx's AutoRespConfigCreateSchema). */
export const autorespConfigBodySchema = z
  .object({
    op: ops,
    keywords: z
      .array(storable(boundedString(MAX_KEYWORD_LENGTH, 1)))
      .min(1, { error: codedMessage('10015', 'At least one keyword is required.') })
      .max(20, { error: codedMessage('10015', 'At most 20 keywords are allowed.') }),
    country_code: z.string().regex(/^(\*|[A-Za-z]{2})$/, {
      error: codedMessage('10015', "'country_code' must be an ISO 3166-1 alpha-2 code or '*'."),
    }),
    resp_text: storable(boundedString(1600, 1)).optional(),
  })
  .superRefine((body, ctx) => {
    for (const [i, raw] of body.keywords.entries()) {
      const keyword = normaliseKeyword(raw);
      const fixed = FIXED_KEYWORDS[keyword];
      if (keyword === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['keywords', i],
          message: codedMessage('10015', 'A keyword may not be blank.'),
        });
      } else if (fixed && fixed !== body.op) {
        ctx.addIssue({
          code: 'custom',
          path: ['keywords', i],
          message: codedMessage('10015', `${keyword} always has op '${fixed}' and cannot be reassigned.`),
        });
      }
    }
  })
  .meta({ id: 'AutoRespConfigCreateSchema' });

export type AutorespConfigBody = z.output<typeof autorespConfigBodySchema>;

export const autorespConfigSchema = z
  .object({
    id: z.string(),
    op: ops,
    keywords: z.array(z.string()),
    country_code: z.string(),
    resp_text: z.string().optional(),
    created_at: dateTime(),
    updated_at: dateTime(),
  })
  .meta({ id: 'AutorespConfigSchema' });

export const autorespConfigResponseSchema = z.object({ data: autorespConfigSchema });
export const autorespConfigListResponseSchema = z.object({
  data: z.array(autorespConfigSchema),
  meta: paginationMetaSchema,
});

/** `GET …/autoresp_configs` query (Telnyx's GetAutorespConfigs). */
export const autorespConfigListQuerySchema = z.object({
  country_code: storable(boundedString(8)).optional().describe('Filter results by country code.'),
  created_at: range('created_at'),
  updated_at: range('updated_at'),
});
