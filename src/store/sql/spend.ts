import type { SqlExecutor } from './driver.ts';

export function spendRepo(db: SqlExecutor) {
  return {
    /**
     * Adds `amountMicros` to the profile's spend of `day` unless the total would pass `limitMicros`,
     * in one atomic statement (concurrent accepts on every node queue on the row). False: refused,
     * nothing added.
     */
    async addWithinLimit(profileId: string, day: string, amountMicros: number, limitMicros: number) {
      if (amountMicros > limitMicros) return false;
      const changed = await db.run(
        `INSERT INTO profile_daily_spend (messaging_profile_id, day, amount_micros) VALUES (?, ?, ?)
         ON CONFLICT (messaging_profile_id, day) DO UPDATE
           SET amount_micros = profile_daily_spend.amount_micros + excluded.amount_micros
           WHERE profile_daily_spend.amount_micros + excluded.amount_micros <= ?`,
        [profileId, day, amountMicros, limitMicros],
      );
      return changed > 0;
    },
    async spent(profileId: string, day: string): Promise<number> {
      const row = await db.get<{ amount_micros: number | string }>(
        'SELECT amount_micros FROM profile_daily_spend WHERE messaging_profile_id = ? AND day = ?',
        [profileId, day],
      );
      return Number(row?.amount_micros ?? 0);
    },
  };
}
