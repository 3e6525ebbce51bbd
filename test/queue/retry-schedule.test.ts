import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CARRIER_RETRY_SCHEDULE,
  MAX_RETRY_AFTER_MS,
  MEDIA_RETRY_SCHEDULE,
  minimumTotalMs,
  nextRetryDelay,
  type RetrySchedule,
  scaleSchedule,
  WEBHOOK_RETRY_SCHEDULE,
} from '../../src/queue/retry-schedule.ts';

const HOUR = 60 * 60 * 1000;
const schedules = { WEBHOOK_RETRY_SCHEDULE, CARRIER_RETRY_SCHEDULE, MEDIA_RETRY_SCHEDULE };
const fixed = (value: number) => () => value;

test('every delay stays within ±jitter of the scheduled delay', () => {
  for (const [name, schedule] of Object.entries(schedules)) {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: schedule.delaysMs.length }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const base = schedule.delaysMs[attempt - 1]!;
          const delay = nextRetryDelay(schedule, attempt, fixed(r));
          assert.ok(delay !== null, name);
          assert.ok(Number.isInteger(delay), `${name}: ${delay} is not whole ms`);
          // Rounding to whole milliseconds may step half a millisecond past the exact bound.
          assert.ok(delay >= base * (1 - schedule.jitter) - 0.5, `${name}: ${delay} below ${base}`);
          assert.ok(delay <= base * (1 + schedule.jitter) + 0.5, `${name}: ${delay} above ${base}`);
        },
      ),
      { numRuns: 500 },
    );
  }
});

test('jitter spans the whole band and is centred on the scheduled delay', () => {
  const schedule: RetrySchedule = { delaysMs: [10_000], jitter: 0.2 };
  assert.equal(nextRetryDelay(schedule, 1, fixed(0)), 8_000);
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5)), 10_000);
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.999_999_9)), 12_000);
  assert.equal(nextRetryDelay({ delaysMs: [10_000], jitter: 0 }, 1, fixed(0.9)), 10_000);
});

test('uses the delay for the given attempt and returns null once the schedule is exhausted', () => {
  const schedule: RetrySchedule = { delaysMs: [100, 200, 300], jitter: 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((attempt) => nextRetryDelay(schedule, attempt)),
    [100, 200, 300, null, null],
  );
  assert.equal(nextRetryDelay(MEDIA_RETRY_SCHEDULE, MEDIA_RETRY_SCHEDULE.delaysMs.length + 1), null);
  assert.equal(nextRetryDelay(schedule, 4, Math.random, 5_000), null);
});

test('refuses attempt numbers that are not positive integers', () => {
  assert.throws(() => nextRetryDelay(WEBHOOK_RETRY_SCHEDULE, 0), RangeError);
  assert.throws(() => nextRetryDelay(WEBHOOK_RETRY_SCHEDULE, 1.5), RangeError);
  assert.throws(() => nextRetryDelay({ delaysMs: [1], jitter: 1.5 }, 1), RangeError);
});

test('Retry-After is a floor, not a replacement', () => {
  const schedule: RetrySchedule = { delaysMs: [10_000], jitter: 0.2 };
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5), 30_000), 30_000);
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5), 1_000), 10_000);
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5), null), 10_000);
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5), 0), 10_000);
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5), 7_000.4), 10_000);
  assert.equal(nextRetryDelay({ delaysMs: [0], jitter: 0 }, 1, fixed(0.5), 7_000.4), 7_001);
});

test('a hostile Retry-After is capped at one hour', () => {
  assert.equal(MAX_RETRY_AFTER_MS, HOUR);
  const schedule: RetrySchedule = { delaysMs: [5_000], jitter: 0.2 };
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5), 99_999_999_000), HOUR);
  assert.equal(nextRetryDelay(schedule, 1, fixed(0.5), Number.POSITIVE_INFINITY), HOUR);
  // The cap limits Retry-After only: a scheduled 8-hour step stays 8 hours.
  assert.equal(nextRetryDelay({ delaysMs: [8 * HOUR], jitter: 0 }, 1, fixed(0.5), 10 * HOUR), 8 * HOUR);
});

test('webhook retries last at least 24 hours even with every delay at its lowest jitter', () => {
  assert.ok(minimumTotalMs(WEBHOOK_RETRY_SCHEDULE) >= 24 * HOUR);
  const lowest = WEBHOOK_RETRY_SCHEDULE.delaysMs.map((_, i) =>
    nextRetryDelay(WEBHOOK_RETRY_SCHEDULE, i + 1, fixed(0)),
  );
  const total = lowest.reduce<number>((sum, ms) => sum + (ms ?? 0), 0);
  assert.ok(total >= 24 * HOUR, `only ${total / HOUR}h`);
});

test('schedules grow monotonically and media retries are quick', () => {
  for (const [name, { delaysMs }] of Object.entries(schedules)) {
    for (let i = 1; i < delaysMs.length; i++) assert.ok(delaysMs[i]! >= delaysMs[i - 1]!, name);
  }
  assert.ok(MEDIA_RETRY_SCHEDULE.delaysMs.length <= 3);
  assert.ok(MEDIA_RETRY_SCHEDULE.delaysMs.every((ms) => ms <= 5_000));
  assert.equal(CARRIER_RETRY_SCHEDULE.delaysMs[0], 1_000);
});

test('scaleSchedule shrinks delays without changing shape or the original', () => {
  const scaled = scaleSchedule(WEBHOOK_RETRY_SCHEDULE, 0.001);
  assert.equal(scaled.delaysMs.length, WEBHOOK_RETRY_SCHEDULE.delaysMs.length);
  assert.equal(scaled.jitter, WEBHOOK_RETRY_SCHEDULE.jitter);
  assert.equal(scaled.delaysMs[0], 5);
  assert.equal(scaled.delaysMs.at(-1), 8 * 3_600);
  assert.equal(WEBHOOK_RETRY_SCHEDULE.delaysMs[0], 5_000);
  assert.equal(nextRetryDelay(scaled, scaled.delaysMs.length + 1), null);
  assert.throws(() => scaleSchedule(WEBHOOK_RETRY_SCHEDULE, -1), RangeError);
  assert.throws(() => scaleSchedule(WEBHOOK_RETRY_SCHEDULE, Number.NaN), RangeError);
});

test('the exported schedules cannot be mutated', () => {
  assert.throws(() => {
    (WEBHOOK_RETRY_SCHEDULE.delaysMs as number[])[0] = 1;
  }, TypeError);
  assert.equal(WEBHOOK_RETRY_SCHEDULE.delaysMs[0], 5_000);
});
