import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { bootstrapSandbox, SANDBOX_NUMBERS } from '../../src/tenants/bootstrap.ts';
import { createTestDatabase, dropTestDatabase, type StoreName } from '../support/databases.ts';

const NODES = 5;

for (const name of ['sqlite', 'postgres'] as StoreName[]) {
  test(`${name}: ${NODES} nodes starting together on an empty database make exactly one sandbox`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-bootstrap-race-'));
    const databaseUrl = name === 'postgres' ? await createTestDatabase() : undefined;
    // Each node opens its own connection(s), migrates and bootstraps, all at once.
    const nodes = await Promise.all(
      Array.from({ length: NODES }, async () => {
        const store = await openStore({ dataDir, databaseUrl });
        return { store, sandbox: await bootstrapSandbox(store) };
      }),
    );
    try {
      const made = nodes.filter((n) => n.sandbox !== null);
      assert.equal(made.length, 1, `${made.length} nodes made a sandbox`);
      const sandbox = made[0]!.sandbox!;
      const reader = nodes[0]!.store;
      assert.equal(await reader.organizations.count(), 1);
      for (const phone of SANDBOX_NUMBERS) {
        const number = await reader.numbers.findByIdOrNumber(sandbox.organizationId, phone);
        assert.equal(number?.messaging_profile_id, sandbox.profileId, phone);
      }
      // Every later start finds the sandbox there and makes nothing.
      assert.equal(await bootstrapSandbox(reader), null);
    } finally {
      for (const node of nodes) await node.store.close();
      if (databaseUrl) await dropTestDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
