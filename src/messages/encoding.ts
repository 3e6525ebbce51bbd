/**
 * How a message body would be encoded and split into SMS parts, as Telnyx reports it in
 * `encoding`, `parts` and `num_chars`.
 */

export type TextEncoding = 'GSM-7' | 'UCS-2';

export interface TextAnalysis {
  encoding: TextEncoding;
  parts: number;
  num_chars: number;
}

/** Telnyx's message schema caps `parts` at 10 (`maximum: 10`). */
export const MAX_PARTS = 10;

/** GSM 03.38 default alphabet, in code order, without 0x1B (the escape to the extension table). */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** GSM 03.38 extension table: each costs two septets (escape + code). */
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

const GSM_SINGLE = 160;
const GSM_CONCATENATED = 153;
const UCS2_SINGLE = 70;
const UCS2_CONCATENATED = 67;

/**
 * `parts` is capped at MAX_PARTS so the value always fits Telnyx's schema; use `countSegments`
 * to enforce a length limit.
 */
export function analyzeText(text: string | null): TextAnalysis {
  const { encoding, segments, chars } = measure(text);
  return { encoding, parts: Math.min(segments, MAX_PARTS), num_chars: chars };
}

/** The number of SMS segments the text needs, uncapped (at least 1). */
export function countSegments(text: string | null): number {
  return measure(text).segments;
}

function measure(text: string | null): { encoding: TextEncoding; segments: number; chars: number } {
  const chars = text ? Array.from(text) : [];
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  // Per character: septets in GSM-7; UTF-16 code units in UCS-2 (2 for a surrogate pair).
  const costs = chars.map((c) => (gsm ? (GSM_EXTENSION.has(c) ? 2 : 1) : c.length));
  const [single, concatenated] = gsm ? [GSM_SINGLE, GSM_CONCATENATED] : [UCS2_SINGLE, UCS2_CONCATENATED];
  return {
    encoding: gsm ? 'GSM-7' : 'UCS-2',
    segments: pack(costs, single, concatenated),
    chars: chars.length,
  };
}

/** Fills parts greedily; a character's units (escape + code, surrogate pair) never straddle two parts. */
function pack(costs: number[], single: number, concatenated: number): number {
  const total = costs.reduce((sum, cost) => sum + cost, 0);
  if (total <= single) return 1;
  let parts = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > concatenated) {
      parts++;
      used = 0;
    }
    used += cost;
  }
  return parts;
}
