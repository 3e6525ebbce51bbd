import type { CountryCode } from 'libphonenumber-js/max';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { parseE164 } from '../../numbers/e164.ts';

/** One MM7 address (TS 23.140 `addressType`): `value` as sent, with a `/TYPE=…` suffix stripped. */
export type Mm7Address = { kind: 'number' | 'shortcode' | 'email'; value: string };

const ELEMENT_KIND: Record<string, Mm7Address['kind']> = {
  number: 'number',
  shortcode: 'shortcode',
  rfc2822address: 'email',
};

/** `value` of `<Number>`, `<ShortCode>` or `<RFC2822Address>`; null for any other element name. */
export function addressFromElement(elementName: string, rawValue: string): Mm7Address | null {
  const kind = ELEMENT_KIND[elementName.toLowerCase()];
  if (!kind) return null;
  let value = rawValue.trim();
  // 'Number' values may carry an MMS address-type suffix (OMA MMS ENC §7.2.2: 15551234567/TYPE=PLMN).
  // In an RFC2822Address only the local part carries it (15551234567/TYPE=PLMN@mmsc.example).
  value = value.replace(/\/TYPE=[^@]*/i, '').trim();
  if (!value) return null;
  return { kind, value };
}

/**
 * '+15551234567', '15551234567/TYPE=PLMN', '5551234567' (defaultCountry 'US') → '+15551234567'.
 * A number with a country code but no '+' (as MMSCs often send) is tried as international first,
 * then as national. An RFC2822 address whose local part is a number (15551234567/TYPE=PLMN@mmsc)
 * counts too. Shortcodes and anything else → null.
 */
export function normalizeMm7Number(address: Mm7Address, defaultCountry: string): string | null {
  let value = address.value;
  if (address.kind === 'shortcode') return null;
  if (address.kind === 'email') {
    const local = value.split('@')[0] ?? '';
    value = local;
  }
  const cleaned = value.replace(/[\s().-]/g, '');
  if (!/^\+?\d{4,16}$/.test(cleaned)) return null;
  if (cleaned.startsWith('+')) return parseE164(cleaned)?.e164 ?? null;
  const national = parsePhoneNumberFromString(cleaned, defaultCountry.toUpperCase() as CountryCode);
  const international = parsePhoneNumberFromString(`+${cleaned.replace(/^00/, '')}`);
  // Valid beats merely possible, so fictional ranges (555) still normalise.
  for (const candidate of [national, international])
    if (candidate?.isValid()) return asE164(candidate.number);
  for (const candidate of [national, international])
    if (candidate?.isPossible()) return asE164(candidate.number);
  return null;
}

function asE164(number: string): string | null {
  return parseE164(number)?.e164 ?? null;
}
