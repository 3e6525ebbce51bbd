import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SqlDriver, SqlExecutor } from '../../src/store/sql/driver.ts';
import { storesUnderTest } from '../support/databases.ts';

const postgres = storesUnderTest().find((s) => s.name === 'postgres')!;
const KEY = { key: 'sender:+13125550100', intervalMs: 1000 };

/** A driver whose answers to reads of the database's clock reach us `slowMs` late while `slow` holds. */
function slowClockAnswers(inner: SqlDriver, slowMs: number, slow: () => boolean): SqlDriver {
  const wrap = (ex: SqlExecutor): SqlExecutor => ({
    all: (sql, params) => ex.all(sql, params),
    run: (sql, params) => ex.run(sql, params),
    async get<T>(sql: string, params?: unknown[]) {
      const row = await ex.get<T>(sql, params);
      if (slow() && sql.includes('clock_timestamp()')) await new Promise((r) => setTimeout(r, slowMs));
      return row;
    },
  });
  return { ...inner, transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))) };
}

test('PostgreSQL: submits claimed one after the other go an interval apart on this clock, however late the database clock answered', async () => {
  let slow = true;
  const store = await postgres.open((d) => slowClockAnswers(d, 150, () => slow));
  try {
    await store.transaction((tx) =>
      tx.throughput.admit('m-0', [KEY], { leadMs: 0, maxInlineMs: 0, mayWait: false }),
    );
    const wentAt: number[] = [];
    for (let i = 0; i < 3; i++) {
      // The first answer comes late: the moment the database read lies anywhere in those 150 ms.
      slow = i === 0;
      const send = await store.transaction((tx) => tx.throughput.claimSend([KEY]));
      const localAt = send.at - send.offsetMs;
      const wait = localAt - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      wentAt.push(Date.now());
    }
    for (let i = 1; i < wentAt.length; i++) {
      const gap = wentAt[i]! - wentAt[i - 1]!;
      // Timers may fire late, never early (a millisecond of rounding).
      assert.ok(gap >= KEY.intervalMs - 1, `submit ${i} went ${gap} ms after submit ${i - 1}`);
    }
  } finally {
    await store.close();
  }
});

for (const { name, open } of storesUnderTest()) {
  test(`${name}: a submit that went late moves the key's last submit, so the next is spaced from when it really went`, async () => {
    const store = await open();
    try {
      await store.transaction((tx) =>
        tx.throughput.admit('m-0', [KEY], { leadMs: 0, maxInlineMs: 0, mayWait: false }),
      );
      const first = await store.transaction((tx) => tx.throughput.claimSend([KEY]));
      // Its wait ended 300 ms late (a busy event loop): it goes then, and says so before it goes.
      const late = 300;
      await store.transaction((tx) => tx.throughput.wentLate([KEY], first.latest + late));
      const next = await store.transaction((tx) => tx.throughput.claimSend([KEY]));
      assert.ok(
        next.at >= first.latest + late + KEY.intervalMs,
        `the next goes ${next.at - first.at} ms after the first's slot, not an interval after it really went`,
      );
      // A late report of an earlier moment never moves it back.
      await store.transaction((tx) => tx.throughput.wentLate([KEY], first.at));
      const after = await store.transaction((tx) => tx.throughput.claimSend([KEY]));
      assert.ok(after.at >= next.latest + KEY.intervalMs);
    } finally {
      await store.close();
    }
  });
}
