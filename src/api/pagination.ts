import { apiError } from '../errors/api-error.ts';
import type { Page } from '../store/records.ts';

const MAX_PAGE_SIZE = 250;

function readInt(query: Record<string, unknown>, key: string, fallback: number, max: number): number {
  const raw = query[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw apiError('10015', { parameter: key, detail: `${key} must be an integer between 1 and ${max}.` });
  }
  return n;
}

/** Telnyx's `page[number]` / `page[size]` query parameters. */
export function readPage(query: unknown): Page {
  const q = (query ?? {}) as Record<string, unknown>;
  return {
    number: readInt(q, 'page[number]', 1, Number.MAX_SAFE_INTEGER),
    size: readInt(q, 'page[size]', 20, MAX_PAGE_SIZE),
  };
}

export function pageMeta(page: Page, total: number) {
  return {
    page_number: page.number,
    page_size: page.size,
    total_pages: Math.max(1, Math.ceil(total / page.size)),
    total_results: total,
  };
}
