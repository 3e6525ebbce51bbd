import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export interface ParsedE164 {
  e164: string;
  /** ISO 3166-1 alpha-2 region, or null when the number is non-geographic or its region is ambiguous. */
  country: string | null;
}

const E164_SHAPE = /^\+[1-9]\d{7,14}$/;
const CACHE_LIMIT = 20_000;
const cache = new Map<string, ParsedE164 | null>();

/**
 * Says whether `text` is a +E.164 phone number: '+', 8–15 digits, no leading 0, already canonical,
 * and possible per libphonenumber (right length for its country calling code).
 *
 * It deliberately does not require `isValid()`: validity ties acceptance to the allocation ranges in
 * libphonenumber's metadata snapshot (newly opened ranges would be refused until an upgrade), and the
 * carrier is the authority on reachability (it answers 40012/40001). The fictional +1NPA55501XX numbers
 * the carrier simulator uses pass either way.
 */
export function parseE164(text: string): ParsedE164 | null {
  // Only short, E.164-shaped strings reach the cache, so it stays small whatever callers send.
  if (typeof text !== 'string' || !E164_SHAPE.test(text)) return null;
  // Every send parses its sender and each destination; the same numbers recur constantly.
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const parsed = parseUncached(text);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, parsed);
  return parsed;
}

function parseUncached(text: string): ParsedE164 | null {
  const phone = parsePhoneNumberFromString(text);
  // Another canonical form means the input was not E.164 as written (+44 0 20…: national prefix kept).
  if (!phone || phone.number !== text || !phone.isPossible()) return null;
  return { e164: text, country: phone.country ?? null };
}
