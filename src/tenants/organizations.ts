import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { createFirstSigningKey } from '../webhooks/organization-signing-keys.ts';
import { issueApiKey } from './api-keys.ts';

export async function createOrganization(
  store: Store,
  name: string,
): Promise<{ organizationId: string; apiKey: string }> {
  const organizationId = randomUUID();
  const apiKey = await store.transaction(async (tx) => {
    await tx.organizations.create({ id: organizationId, name, created_at: new Date().toISOString() });
    await createFirstSigningKey(tx, organizationId);
    return issueApiKey(tx, organizationId);
  });
  return { organizationId, apiKey };
}
