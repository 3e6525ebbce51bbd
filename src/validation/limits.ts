import { z } from 'zod';
import { codedMessage } from './telnyx-issues.ts';

/**
 * A string of `min`–`max` UTF-16 code units, refused with Telnyx's `10025 String length out of
 * range` (its detail template: "must be between X and Y characters long, but was Z").
 */
export function boundedString(max: number, min = 0) {
  const error = (issue: { input?: unknown }) =>
    codedMessage(
      '10025',
      `The field must be between ${min} and ${max} characters long, but was ${String(issue.input ?? '').length}.`,
    );
  return z.string().min(min, { error }).max(max, { error });
}

// With the `u` flag a well-formed surrogate pair is one code point, so only a lone half matches.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True for text that every store can keep exactly as given. A lone surrogate cannot be encoded as
 * UTF-8 (it would come back as U+FFFD) and PostgreSQL refuses U+0000 in text, so both are refused
 * up front (`10015`) instead of being stored differently, or failing, on one store only.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}
