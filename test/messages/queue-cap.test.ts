import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createQueueCap } from '../../src/messages/queue-cap.ts';
import { countingDriver } from '../support/counting-driver.ts';
import { storesUnderTest } from '../support/databases.ts';
import { seedOrganization } from '../support/store-fixtures.ts';

for (const { name, open } of storesUnderTest()) {
  describe(`queue cap counts (${name})`, () => {
    test('requests that find the count stale together share one count, and each is counted', async () => {
      let counted!: ReturnType<typeof countingDriver>;
      const store = await open((d) => {
        counted = countingDriver(d);
        return counted.driver;
      });
      try {
        await seedOrganization(store, 'org_cap');
        for (let i = 0; i < 3; i++) {
          await store.jobs.enqueue({ queue: 'message.send', payload: { i }, fairKey: 'org_cap' });
        }
        let clock = 0;
        const cap = createQueueCap(store, 8, () => clock);
        const counts = () => counted.statements.filter((s) => s.sql.includes('SELECT COUNT(*) AS n')).length;

        // 3 queued, cap 8: five of ten concurrent requests fit, and one count served them all.
        const first = await Promise.all(Array.from({ length: 10 }, () => cap.refusal('org_cap')));
        assert.equal(first.filter((r) => r === null).length, 5);
        assert.equal(counts(), 1);

        // A second later the count is stale again: one more count for the next burst.
        clock += 1_000;
        await Promise.all(Array.from({ length: 10 }, () => cap.refusal('org_cap')));
        assert.equal(counts(), 2);
      } finally {
        await store.close();
      }
    });
  });
}
