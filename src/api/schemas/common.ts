import { z } from 'zod';

/** Telnyx's `messaging_PaginationMeta` / `PaginationMetaSimple`. */
export const paginationMetaSchema = z
  .object({
    page_number: z.number().int(),
    page_size: z.number().int(),
    total_pages: z.number().int(),
    total_results: z.number().int(),
  })
  .meta({ id: 'PaginationMeta' });

/** Telnyx's `messaging_Error`: every error body is `{ errors: [...] }`. */
export const telnyxErrorSchema = z
  .object({
    code: z.string(),
    title: z.string(),
    detail: z.string().optional(),
    source: z
      .object({
        pointer: z.string().optional().describe('JSON pointer (RFC6901) to the offending entity.'),
        parameter: z.string().optional().describe('Indicates which query parameter caused the error.'),
      })
      .optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'messaging_Error' });

export const telnyxErrorsSchema = z
  .object({ errors: z.array(telnyxErrorSchema) })
  .meta({ id: 'messaging_Errors' });

/** A UTC timestamp as the gateway writes them (ISO 8601 with milliseconds). */
export const dateTime = () => z.iso.datetime();
