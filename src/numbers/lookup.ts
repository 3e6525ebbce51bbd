import { type NumberType, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { LineType, PrefixTable } from './prefix-table.ts';

export { type ParsedE164, parseE164 } from './e164.ts';

export interface NumberInfo {
  carrier: string | null;
  line_type: LineType | null;
  /** ISO 3166-1 alpha-2 region, as Telnyx's number lookup reports it. */
  country_code: string | null;
}

export interface NumberLookup {
  lookup(e164: string): NumberInfo;
}

export interface NumberLookupOptions {
  /** Consulted first; its longest matching prefix wins. */
  table?: PrefixTable;
  /** How many numbers to remember (least recently used are forgotten first). */
  cacheSize?: number;
}

const DEFAULT_CACHE_SIZE = 10_000;

/**
 * libphonenumber types mapped to Telnyx line types. FIXED_LINE_OR_MOBILE becomes Wireless: it is what
 * libphonenumber answers for every US and Canadian geographic number (their plans do not separate mobile
 * ranges), most recipients of group MMS are mobiles, and a guess of Wireless never makes anyone refuse
 * a reachable number. Operators who need the truth configure a prefix table, which is consulted first.
 */
const LINE_TYPE_BY_NUMBER_TYPE: Partial<Record<NumberType & string, LineType>> = {
  MOBILE: 'Wireless',
  FIXED_LINE: 'Wireline',
  FIXED_LINE_OR_MOBILE: 'Wireless',
  VOIP: 'VoIP',
};

const UNKNOWN: NumberInfo = Object.freeze({ carrier: null, line_type: null, country_code: null });

export function createNumberLookup(options: NumberLookupOptions = {}): NumberLookup {
  const { table, cacheSize = DEFAULT_CACHE_SIZE } = options;
  const cache = new Map<string, NumberInfo>();

  function resolve(e164: string): NumberInfo {
    const phone = parsePhoneNumberFromString(e164);
    const country_code = phone?.country ?? null;
    const entry = table?.match(e164);
    if (entry) return { carrier: entry.carrier, line_type: entry.line_type, country_code };
    if (!phone) return UNKNOWN;
    const type = phone.getType();
    return { carrier: null, line_type: (type && LINE_TYPE_BY_NUMBER_TYPE[type]) ?? null, country_code };
  }

  return {
    lookup(e164) {
      const cached = cache.get(e164);
      if (cached) {
        // Re-insert so Map order tracks recency and the oldest key is the least recently used.
        cache.delete(e164);
        cache.set(e164, cached);
        return { ...cached };
      }
      const info = resolve(e164);
      cache.set(e164, info);
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
      return { ...info };
    },
  };
}
