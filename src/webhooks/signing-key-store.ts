import type { Store } from '../store/store.ts';
import { generateSigningKeyPair, type SigningKeyPair } from './signing.ts';

/**
 * The gateway's one webhook signing key pair, generated on first start and kept in the database so
 * every node signs with the same key.
 */
export async function ensureSigningKey(store: Pick<Store, 'signingKeys'>): Promise<SigningKeyPair> {
  const existing = await store.signingKeys.get();
  if (existing) return { publicKey: existing.public_key, privateKeyPem: existing.private_key_pem };
  const fresh = generateSigningKeyPair();
  await store.signingKeys.insertIfAbsent({
    private_key_pem: fresh.privateKeyPem,
    public_key: fresh.publicKey,
    created_at: new Date().toISOString(),
  });
  const row = (await store.signingKeys.get())!;
  return { publicKey: row.public_key, privateKeyPem: row.private_key_pem };
}
