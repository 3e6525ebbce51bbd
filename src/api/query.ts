import { z } from 'zod';

/**
 * Telnyx's deepObject query parameters arrive flat (`filter[status][eq]=delivered`); this nests them
 * (`{ filter: { status: { eq: 'delivered' } } }`) so one zod schema validates them and describes
 * them in the OpenAPI document.
 */
export function nestQuery(query: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const parts = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!parts) continue;
    const path = [parts[1]!, ...[...parts[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)];
    let node = out;
    for (const [i, part] of path.entries()) {
      if (i === path.length - 1) {
        node[part] = Array.isArray(value) ? value.at(-1) : value;
      } else {
        const next = node[part];
        if (next === null || typeof next !== 'object') node[part] = {};
        node = node[part] as Record<string, unknown>;
      }
    }
  }
  return out;
}

/** Telnyx's `page[number]` / `page[size]` (PageConsolidated). */
export const pageQuerySchema = z
  .object({
    number: z.coerce.number().int().min(1).default(1).describe('The page number to load.'),
    size: z.coerce.number().int().min(1).max(250).default(20).describe('The size of the page.'),
  })
  .default({ number: 1, size: 20 })
  .describe('Consolidated page parameter (deepObject style). Originally: page[number], page[size]');
