import { type FetchMediaOptions, fetchMedia, type MediaFetchFailure } from './fetch-media.ts';
import type { MediaStore } from './media-store.ts';

export interface MediaRef {
  url: string;
  contentType: string;
  size: number;
  sha256: string;
}

export interface InvalidMmsContentError {
  code: '40317';
  title: 'Invalid MMS content';
  /** Shown to the tenant. */
  detail: string;
  /** The full cause, for the operator's log only (addresses included). */
  operatorDetail?: string;
}

export type FetchMessageMediaResult =
  | { ok: true; media: MediaRef[] }
  /** `media[i]` is null for every URL not fetched and stored when the message failed. */
  | { ok: false; error: InvalidMmsContentError; media: Array<MediaRef | null> };

export interface FetchMessageMediaOptions
  extends Omit<FetchMediaOptions, 'maxBytes' | 'signal' | 'sharedBytes'> {
  store: MediaStore;
  /** The message's media total must stay strictly below this (Telnyx: "less than 1 MB"). */
  totalLimitBytes?: number;
  /**
   * Here `totalTimeoutMs` is the message's time budget: all its URLs together, redirects included,
   * must be fetched within it, so one message holds a worker for at most this long.
   */
  totalTimeoutMs: number;
  /** How many of the message's URLs are fetched at the same time. */
  concurrency?: number;
}

export const DEFAULT_TOTAL_MEDIA_LIMIT_BYTES = 1_000_000;
export const DEFAULT_MEDIA_CONCURRENCY = 4;

/**
 * Fetches a message's media, up to `concurrency` URLs at a time, within one time budget and one byte
 * budget for the whole message, and stores each in the content-addressed store. The first failure
 * stops the others and rejects the whole message with Telnyx 40317. Store errors are infrastructure
 * failures and are thrown, not reported as 40317.
 */
export async function fetchMessageMedia(
  urls: readonly string[],
  opts: FetchMessageMediaOptions,
): Promise<FetchMessageMediaResult> {
  const {
    store,
    totalLimitBytes = DEFAULT_TOTAL_MEDIA_LIMIT_BYTES,
    concurrency = DEFAULT_MEDIA_CONCURRENCY,
    ...fetchOptions
  } = opts;
  const media: Array<MediaRef | null> = urls.map(() => null);
  const stop = new AbortController();
  const budget = setTimeout(() => stop.abort(), fetchOptions.totalTimeoutMs);
  const sharedBytes = { used: 0, limit: totalLimitBytes - 1 };
  let failure: MediaFetchFailure | null = null;
  let next = 0;

  const worker = async () => {
    while (failure === null && next < urls.length) {
      const i = next++;
      const url = urls[i]!;
      const fetched = await fetchMedia(url, {
        ...fetchOptions,
        maxBytes: sharedBytes.limit,
        signal: stop.signal,
        sharedBytes,
      });
      if (failure !== null) return;
      if (!fetched.ok) {
        failure = stop.signal.aborted ? budgetExceeded(url, fetchOptions.totalTimeoutMs, fetched) : fetched;
        stop.abort();
        return;
      }
      await store.put(fetched.bytes, fetched.sha256);
      media[i] = { url, contentType: fetched.contentType, size: fetched.size, sha256: fetched.sha256 };
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
  } finally {
    clearTimeout(budget);
  }
  if (failure !== null) {
    const f: MediaFetchFailure = failure;
    return {
      ok: false,
      error: {
        ...invalidMmsContent(describeFailure(f, totalLimitBytes)),
        ...(f.operatorDetail === undefined ? {} : { operatorDetail: f.operatorDetail }),
      },
      media,
    };
  }
  return { ok: true, media: media as MediaRef[] };
}

function budgetExceeded(url: string, budgetMs: number, fetched: MediaFetchFailure): MediaFetchFailure {
  return {
    ok: false,
    url,
    reason: 'timeout',
    detail: `the message's media were not all fetched within ${budgetMs} ms`,
    operatorDetail: fetched.operatorDetail ?? fetched.detail,
  };
}

function invalidMmsContent(detail: string): InvalidMmsContentError {
  return { code: '40317', title: 'Invalid MMS content', detail };
}

function describeFailure(failure: MediaFetchFailure, totalLimitBytes: number): string {
  const { url, reason, detail } = failure;
  switch (reason) {
    case 'too_large':
      return `Media ${url} is too large: the total media size must be less than ${totalLimitBytes} bytes (${detail}).`;
    case 'disallowed_type':
      return `Media ${url} is not an allowed MMS media type: ${detail}.`;
    default:
      return `Media ${url} could not be fetched (${reason}): ${detail}.`;
  }
}
