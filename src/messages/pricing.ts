import fs from 'node:fs';
import { z } from 'zod';
import type { Money } from '../store/records.ts';

const rateTableSchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/),
  rates: z.array(
    z.object({ prefix: z.string().regex(/^\+\d*$/), amount: z.string().regex(/^\d+(\.\d{1,6})?$/) }),
  ),
});

const MICROS = 1_000_000n;

/** A decimal amount in millionths; digits past the sixth decimal are dropped. */
export function toMicros(amount: string): bigint {
  const [whole = '0', frac = ''] = amount.split('.');
  return BigInt(whole) * MICROS + BigInt(frac.slice(0, 6).padEnd(6, '0'));
}

function fromMicros(micros: bigint): string {
  const whole = micros / MICROS;
  const frac = (micros % MICROS)
    .toString()
    .padStart(6, '0')
    .replace(/0{1,2}$/, '');
  return `${whole}.${frac.padEnd(4, '0')}`;
}

export interface RateTable {
  /** The per-recipient price of an MMS to this number, or null when no rate applies. */
  priceFor(e164: string): Money | null;
  sum(costs: Array<Money | null>): Money | null;
}

/** A per-destination-prefix price list (longest prefix wins); amounts are decimal strings. */
export function createRateTable(table: z.infer<typeof rateTableSchema>): RateTable {
  const rates = [...table.rates].sort((a, b) => b.prefix.length - a.prefix.length);
  return {
    priceFor(e164) {
      const rate = rates.find((r) => e164.startsWith(r.prefix));
      return rate ? { amount: fromMicros(toMicros(rate.amount)), currency: table.currency } : null;
    },
    sum(costs) {
      if (costs.length === 0 || costs.some((c) => c === null)) return null;
      const total = costs.reduce((acc, c) => acc + toMicros(c!.amount), 0n);
      return { amount: fromMicros(total), currency: table.currency };
    },
  };
}

export function loadRateTable(file: string): RateTable {
  const parsed = rateTableSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`Invalid rate table ${file}: ${parsed.error.message}`);
  return createRateTable(parsed.data);
}
