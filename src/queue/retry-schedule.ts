/** Retry policy as data: the delay before retry n is `delaysMs[n - 1]`, spread by ±`jitter` (a fraction). */
export interface RetrySchedule {
  readonly delaysMs: readonly number[];
  readonly jitter: number;
}

/**
 * Upper bound on how far a receiver's `Retry-After` can push a retry. Without it a hostile or buggy
 * receiver could park a job indefinitely ("Retry-After: 99999999"). It only limits the Retry-After
 * floor: scheduled delays longer than this (the 8h webhook steps) are kept as they are.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Twelve retries spread over more than 24 hours, even when every delay jitters down. */
export const WEBHOOK_RETRY_SCHEDULE: RetrySchedule = freeze({
  delaysMs: [
    5 * SECOND,
    30 * SECOND,
    2 * MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    1 * HOUR,
    2 * HOUR,
    4 * HOUR,
    8 * HOUR,
    8 * HOUR,
    8 * HOUR,
  ],
  jitter: 0.2,
});

/** Carrier submissions: fast at first (transient MM7/HTTP errors), giving up after about two hours. */
export const CARRIER_RETRY_SCHEDULE: RetrySchedule = freeze({
  delaysMs: [1 * SECOND, 5 * SECOND, 15 * SECOND, 1 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, 1 * HOUR],
  jitter: 0.2,
});

/** Media fetches: a couple of quick retries; a URL that keeps failing is reported, not waited on. */
export const MEDIA_RETRY_SCHEDULE: RetrySchedule = freeze({
  delaysMs: [500, 2 * SECOND],
  jitter: 0.2,
});

/**
 * A delivery report whose carrier id is not recorded yet: the submit's answer is usually a few
 * milliseconds behind, so look again quickly, then give up after about a minute.
 */
export const UNMATCHED_REPORT_RETRY_SCHEDULE: RetrySchedule = freeze({
  delaysMs: [10, 25, 50, 100, 250, 500, 1 * SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 30 * SECOND],
  jitter: 0.2,
});

/** A handler that threw instead of deciding: back off, and drop the job after about a day. */
export const CRASHED_JOB_RETRY_SCHEDULE: RetrySchedule = freeze({
  delaysMs: [1 * SECOND, 10 * SECOND, 1 * MINUTE, 10 * MINUTE, 1 * HOUR, 4 * HOUR, 8 * HOUR, 8 * HOUR],
  jitter: 0.2,
});

/**
 * Delay in whole milliseconds before the next attempt, or null when the schedule is exhausted.
 * `attempt` is the 1-based number of failed attempts so far. A `retryAfterMs` (from the receiver)
 * is a floor, capped at MAX_RETRY_AFTER_MS.
 */
export function nextRetryDelay(
  schedule: RetrySchedule,
  attempt: number,
  random: () => number = Math.random,
  retryAfterMs?: number | null,
): number | null {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  }
  if (!(schedule.jitter >= 0 && schedule.jitter <= 1)) {
    throw new RangeError(`jitter must be between 0 and 1, got ${schedule.jitter}`);
  }
  const base = schedule.delaysMs[attempt - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (1 + schedule.jitter * (2 * random() - 1)));
  const floor = retryAfterMs != null && retryAfterMs > 0 ? Math.min(retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
  return Math.max(jittered, Math.ceil(floor), 0);
}

/** Same shape, delays multiplied by `factor` (e.g. 0.001 in tests and benchmarks). */
export function scaleSchedule(schedule: RetrySchedule, factor: number): RetrySchedule {
  if (!(factor >= 0) || !Number.isFinite(factor)) {
    throw new RangeError(`factor must be a non-negative finite number, got ${factor}`);
  }
  return freeze({ delaysMs: schedule.delaysMs.map((ms) => ms * factor), jitter: schedule.jitter });
}

/** Total of all delays when every one jitters to its lowest: the guaranteed retry window. */
export function minimumTotalMs(schedule: RetrySchedule): number {
  return schedule.delaysMs.reduce((sum, ms) => sum + ms, 0) * (1 - schedule.jitter);
}

function freeze(schedule: RetrySchedule): RetrySchedule {
  return Object.freeze({ delaysMs: Object.freeze([...schedule.delaysMs]), jitter: schedule.jitter });
}
