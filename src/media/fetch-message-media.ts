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
  detail: string;
}

export type FetchMessageMediaResult =
  | { ok: true; media: MediaRef[] }
  /** `media[i]` is null for the URL that failed and for every URL after it (not fetched). */
  | { ok: false; error: InvalidMmsContentError; media: Array<MediaRef | null> };

export interface FetchMessageMediaOptions extends Omit<FetchMediaOptions, 'maxBytes'> {
  store: MediaStore;
  /** The message's media total must stay strictly below this (Telnyx: "less than 1 MB"). */
  totalLimitBytes?: number;
}

export const DEFAULT_TOTAL_MEDIA_LIMIT_BYTES = 1_000_000;

/**
 * Fetches a message's media one URL at a time, each capped at what is left of the message budget, and
 * stores each in the content-addressed store. Any failure rejects the whole message with Telnyx 40317.
 * Store errors are infrastructure failures and are thrown, not reported as 40317.
 */
export async function fetchMessageMedia(
  urls: readonly string[],
  opts: FetchMessageMediaOptions,
): Promise<FetchMessageMediaResult> {
  const { store, totalLimitBytes = DEFAULT_TOTAL_MEDIA_LIMIT_BYTES, ...fetchOptions } = opts;
  const media: Array<MediaRef | null> = urls.map(() => null);
  let total = 0;
  for (const [i, url] of urls.entries()) {
    const remaining = totalLimitBytes - 1 - total;
    const fetched = await fetchMedia(url, { ...fetchOptions, maxBytes: remaining });
    if (!fetched.ok) {
      return { ok: false, error: invalidMmsContent(describeFailure(fetched, totalLimitBytes, total)), media };
    }
    await store.put(fetched.bytes, fetched.sha256);
    total += fetched.size;
    media[i] = { url, contentType: fetched.contentType, size: fetched.size, sha256: fetched.sha256 };
  }
  return { ok: true, media: media as MediaRef[] };
}

function invalidMmsContent(detail: string): InvalidMmsContentError {
  return { code: '40317', title: 'Invalid MMS content', detail };
}

function describeFailure(failure: MediaFetchFailure, totalLimitBytes: number, usedBefore: number): string {
  const { url, reason, detail } = failure;
  switch (reason) {
    case 'too_large':
      return (
        `Media ${url} is too large: the total media size must be less than ${totalLimitBytes} bytes ` +
        `(${usedBefore} bytes used by earlier media; ${detail}).`
      );
    case 'disallowed_type':
      return `Media ${url} is not an allowed MMS media type: ${detail}.`;
    default:
      return `Media ${url} could not be fetched (${reason}): ${detail}.`;
  }
}
