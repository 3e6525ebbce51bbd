import { hash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';

/** Keys look like Telnyx's (`KEY…`) and carry 192 random bits, so a fast hash is enough to store them. */
export function generateApiKey(): string {
  return `KEY${randomBytes(24).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export async function issueApiKey(store: Pick<Store, 'apiKeys'>, organizationId: string): Promise<string> {
  const key = generateApiKey();
  await store.apiKeys.create({
    id: randomUUID(),
    organization_id: organizationId,
    key_hash: hashApiKey(key),
    created_at: new Date().toISOString(),
    revoked_at: null,
  });
  return key;
}

export interface Authenticator {
  /** The organization id the key belongs to, or null. */
  authenticate(key: string): Promise<string | null>;
}

/**
 * Looks the key up by its hash and compares the hashes in constant time. Answers are cached for a
 * few seconds because every request authenticates; a revoked key stops working within `ttlMs`.
 */
export function createAuthenticator(
  store: Pick<Store, 'apiKeys'>,
  ttlMs = 5000,
  maxEntries = 10_000,
): Authenticator {
  const cache = new Map<string, { organizationId: string | null; expires: number }>();
  return {
    async authenticate(key) {
      const hash = hashApiKey(key);
      const now = Date.now();
      const cached = cache.get(hash);
      if (cached && cached.expires > now) return cached.organizationId;
      const row = await store.apiKeys.findActiveByHash(hash);
      const ok =
        row !== undefined && timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'));
      const organizationId = ok ? row.organization_id : null;
      if (cache.size >= maxEntries) cache.clear();
      cache.set(hash, { organizationId, expires: now + ttlMs });
      return organizationId;
    },
  };
}
