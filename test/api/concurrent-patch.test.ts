import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addNumber, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { api } from '../support/pipeline-gateway.ts';

// PATCH reads a resource, merges the changes and writes it back: concurrent PATCHes of different
// fields of one resource must all land, none overwritten by another's stale read.

let gw: TestGateway;
type Json = Record<string, unknown>;

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await api<{ data: Json }>(gw, method, path, body);
  assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body.data;
}

before(async () => {
  gw = await startTestGateway();
});
after(() => gw?.close());

const ROUNDS = 5;

describe('concurrent PATCHes of different fields all land', () => {
  test('messaging profile', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const profile = await call('POST', '/v2/messaging_profiles', {
        name: `p${round}`,
        whitelisted_destinations: ['US'],
      });
      const path = `/v2/messaging_profiles/${profile.id}`;
      const changes: Json[] = [
        { name: `renamed ${round}` },
        { webhook_url: `https://hooks.example.com/${round}` },
        { webhook_failover_url: `https://failover.example.com/${round}` },
        { enabled: false },
        { alpha_sender: 'Acme' },
        { daily_spend_limit: '12.5' },
        { mobile_only: true },
        { whitelisted_destinations: ['US', 'CA'] },
      ];
      await Promise.all(changes.map((change) => call('PATCH', path, change)));
      const after = await call('GET', path);
      for (const change of changes) {
        const [key, value] = Object.entries(change)[0]!;
        assert.deepEqual(after[key], value, `round ${round}: ${key} was lost`);
      }
    }
  });

  test('phone number messaging settings', async () => {
    const other = await call('POST', '/v2/messaging_profiles', {
      name: 'other',
      whitelisted_destinations: ['US'],
    });
    for (let round = 0; round < ROUNDS; round++) {
      const number = await addNumber(gw.store, gw.organizationId, gw.profileId);
      const path = `/v2/phone_numbers/${number.id}/messaging`;
      await Promise.all([
        call('PATCH', path, { tags: [`round-${round}`] }),
        call('PATCH', path, { messaging_profile_id: other.id }),
        call('PATCH', path, { messaging_product: 'P2P' }),
      ]);
      const after = await call('GET', path);
      assert.deepEqual(after.tags, [`round-${round}`], `round ${round}: tags were lost`);
      assert.equal(after.messaging_profile_id, other.id, `round ${round}: the profile was lost`);
    }
  });
});
