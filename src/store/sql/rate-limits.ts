import type { SqlExecutor } from './driver.ts';

export interface RateLimitTake {
  bucket: string;
  windowStart: number;
  take: number;
}

export function rateLimitsRepo(db: SqlExecutor) {
  return {
    /**
     * Adds `take` to each bucket's count for its window in one atomic statement and returns the
     * counts after. A bucket still on an older window starts over; one already on a newer window
     * (another node's clock is ahead) keeps it.
     */
    async take(
      takes: RateLimitTake[],
    ): Promise<Array<{ bucket: string; window_start: number; used: number }>> {
      const rows = await db.all<{ bucket: string; window_start: number | string; used: number | string }>(
        `INSERT INTO rate_limit_windows (bucket, window_start, used) VALUES ${takes.map(() => '(?, ?, ?)').join(', ')}
         ON CONFLICT (bucket) DO UPDATE SET
           used = CASE WHEN rate_limit_windows.window_start >= excluded.window_start
                       THEN rate_limit_windows.used + excluded.used ELSE excluded.used END,
           window_start = CASE WHEN rate_limit_windows.window_start > excluded.window_start
                               THEN rate_limit_windows.window_start ELSE excluded.window_start END
         RETURNING bucket, window_start, used`,
        takes.flatMap((t) => [t.bucket, t.windowStart, t.take]),
      );
      return rows.map((r) => ({
        bucket: r.bucket,
        window_start: Number(r.window_start),
        used: Number(r.used),
      }));
    },
  };
}
