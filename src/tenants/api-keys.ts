import { hash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';

/** Keys look like Telnyx's (`KEY…`) and carry 192 random bits, so a fast hash is enough to store them. */
export function generateApiKey(): string {
  return `KEY${randomBytes(24).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** What `keys list` shows of a key: `KEY` and six characters, 36 of its 192 random bits. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 9);
}

export async function issueApiKey(store: Pick<Store, 'apiKeys'>, organizationId: string): Promise<string> {
  const key = generateApiKey();
  await store.apiKeys.create({
    id: randomUUID(),
    organization_id: organizationId,
    key_hash: hashApiKey(key),
    prefix: apiKeyPrefix(key),
    created_at: new Date().toISOString(),
    revoked_at: null,
  });
  return key;
}

export interface AuthenticatedKey {
  organizationId: string;
  keyId: string;
}

export interface Authenticator {
  /** The key's organization and id, or null. */
  authenticate(key: string): Promise<AuthenticatedKey | null>;
}

export interface AuthenticatorOptions {
  /** How long an answer is cached: a revoked key stops working on every node within this. */
  ttlMs?: number;
  maxEntries?: number;
  /** `last_used_at` is written at most this often per key (per node), not on every request. */
  lastUsedEveryMs?: number;
  onError?(err: unknown): void;
}

/**
 * Looks the key up by its hash and compares the hashes in constant time. Answers are cached for a
 * few seconds because every request authenticates; a revoked key stops working within `ttlMs`.
 */
export function createAuthenticator(
  store: Pick<Store, 'apiKeys'>,
  opts: AuthenticatorOptions = {},
): Authenticator {
  const { ttlMs = 5000, maxEntries = 10_000, lastUsedEveryMs = 60_000 } = opts;
  const cache = new Map<string, { key: AuthenticatedKey | null; expires: number }>();
  const lastTouched = new Map<string, number>();

  const noteUse = (keyId: string, now: number) => {
    const touched = lastTouched.get(keyId);
    if (touched !== undefined && now - touched < lastUsedEveryMs) return;
    if (lastTouched.size >= maxEntries) lastTouched.clear();
    lastTouched.set(keyId, now);
    store.apiKeys.touchLastUsed(keyId, new Date(now).toISOString()).catch((err) => opts.onError?.(err));
  };

  return {
    async authenticate(presented) {
      const hash = hashApiKey(presented);
      const now = Date.now();
      const cached = cache.get(hash);
      let key: AuthenticatedKey | null;
      if (cached && cached.expires > now) {
        key = cached.key;
      } else {
        const row = await store.apiKeys.findActiveByHash(hash);
        const ok =
          row !== undefined && timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'));
        key = ok ? { organizationId: row.organization_id, keyId: row.id } : null;
        if (cache.size >= maxEntries) cache.clear();
        cache.set(hash, { key, expires: now + ttlMs });
      }
      if (key) noteUse(key.keyId, now);
      return key;
    },
  };
}
