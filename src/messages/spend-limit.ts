import { apiError } from '../errors/api-error.ts';
import type { BeforeInsert } from './create-group-mms.ts';
import { toMicros } from './pricing.ts';

/**
 * Telnyx's `daily_spend_limit` of a messaging profile: when `daily_spend_limit_enabled`, the cost of
 * a message (the rate table's price per recipient; a recipient without a rate costs nothing) is added
 * to the profile's spend of the UTC day at accept, in the message's transaction, and a message that
 * would pass the limit is refused with 40333 and not stored. Spend is counted when accepted and not
 * given back when a recipient later fails.
 */
export const enforceDailySpendLimit: BeforeInsert = async (tx, { profile, message, recipients }) => {
  if (profile.data.daily_spend_limit_enabled !== true) return;
  const cost = recipients.reduce((sum, r) => sum + (r.cost ? toMicros(r.cost.amount) : 0n), 0n);
  if (cost === 0n) return;
  const limit = toMicros(String(profile.data.daily_spend_limit ?? '0'));
  const day = message.received_at.slice(0, 10);
  if (!(await tx.spend.addWithinLimit(profile.id, day, Number(cost), Number(limit)))) {
    throw apiError('40333', {
      detail: `Request refused because this would incur cost above the daily spend limit of ${profile.data.daily_spend_limit} configured on the messaging profile ${profile.id}.`,
    });
  }
};
