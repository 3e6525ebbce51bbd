import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { issueApiKey } from './api-keys.ts';

export async function createOrganization(
  store: Store,
  name: string,
): Promise<{ organizationId: string; apiKey: string }> {
  const organizationId = randomUUID();
  const apiKey = await store.transaction(async (tx) => {
    await tx.organizations.create({ id: organizationId, name, created_at: new Date().toISOString() });
    return issueApiKey(tx, organizationId);
  });
  return { organizationId, apiKey };
}
