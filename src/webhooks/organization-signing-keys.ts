import { randomUUID } from 'node:crypto';
import type { OrganizationSigningKeyRow } from '../store/sql/organization-signing-keys.ts';
import type { Repos, Store } from '../store/store.ts';
import { createSigner, generateSigningKeyPair, type Signer } from './signing.ts';

type KeyRepos = Pick<Repos, 'organizationSigningKeys'>;

/** How long a node keeps an organization's signer before looking again. */
export const SIGNER_CACHE_MS = 10_000;

/** Creates the organization's first webhook signing key (a no-op when it has one). */
export async function createFirstSigningKey(repos: KeyRepos, organizationId: string, now = new Date()) {
  const pair = generateSigningKeyPair();
  await repos.organizationSigningKeys.insertFirst({
    organization_id: organizationId,
    private_key_pem: pair.privateKeyPem,
    public_key: pair.publicKey,
    created_at: now.toISOString(),
    active_from: now.toISOString(),
  });
}

/** Gives every organization that has none (created before per-organization keys) a key of its own. */
export async function ensureOrganizationSigningKeys(store: KeyRepos): Promise<number> {
  const missing = await store.organizationSigningKeys.organizationsWithoutKey();
  for (const organizationId of missing) await createFirstSigningKey(store, organizationId);
  return missing.length;
}

export type SigningKeyStatus = 'active' | 'next' | 'retiring';

export interface PublishedSigningKey {
  public_key: string;
  status: SigningKeyStatus;
  active_from: string;
  /** When the key stops being published and used; null while it has no successor. */
  retired_at: string | null;
}

interface KeySet {
  current: OrganizationSigningKeyRow;
  published: PublishedSigningKey[];
  /** When the current key changes next (a `next` key's activation), or null. */
  changesAt: number | null;
}

async function loadKeySet(store: KeyRepos, organizationId: string, now: Date): Promise<KeySet> {
  let rows = await store.organizationSigningKeys.listUnretired(organizationId, now.toISOString());
  if (!rows.some((r) => Date.parse(r.active_from) <= now.getTime())) {
    // An organization created by a node that predates per-organization keys.
    await createFirstSigningKey(store, organizationId, now);
    rows = await store.organizationSigningKeys.listUnretired(organizationId, now.toISOString());
  }
  const live = rows.filter((r) => Date.parse(r.active_from) <= now.getTime());
  const current = live.at(-1)!;
  const upcoming = rows.filter((r) => Date.parse(r.active_from) > now.getTime());
  return {
    current,
    published: rows.map((r) => ({
      public_key: r.public_key,
      status: r === current ? 'active' : upcoming.includes(r) ? 'next' : 'retiring',
      active_from: r.active_from,
      retired_at: r.retired_at,
    })),
    changesAt: upcoming.length > 0 ? Date.parse(upcoming[0]!.active_from) : null,
  };
}

/** What `GET /v2/public_key` answers: the key signing now, and every key a receiver should accept. */
export async function publishedSigningKeys(store: KeyRepos, organizationId: string, now = new Date()) {
  const keys = await loadKeySet(store, organizationId, now);
  return { public_key: keys.current.public_key, public_keys: keys.published };
}

/**
 * Starts a rotation: a new key is published at once as `next` and signs from `now + overlapMs`. Until
 * then events are still signed with the current key, so a receiver that picks up the new key during
 * the overlap never sees an event it cannot verify. The keys before it stay published as `retiring`
 * for SIGNER_CACHE_MS after the switch, while nodes that cached them may still sign with them. An
 * overlap of 0 switches at once (a leaked key).
 */
export async function rotateSigningKey(
  store: Pick<Store, 'transaction'>,
  organizationId: string,
  overlapMs: number,
  now = new Date(),
): Promise<PublishedSigningKey> {
  const switchAt = new Date(now.getTime() + overlapMs).toISOString();
  const pair = generateSigningKeyPair();
  const retireAt = new Date(now.getTime() + overlapMs + SIGNER_CACHE_MS).toISOString();
  await store.transaction(async (tx) => {
    await tx.organizationSigningKeys.retireAll(organizationId, retireAt);
    await tx.organizationSigningKeys.insert({
      id: randomUUID(),
      organization_id: organizationId,
      private_key_pem: pair.privateKeyPem,
      public_key: pair.publicKey,
      created_at: now.toISOString(),
      active_from: switchAt,
      retired_at: null,
    });
  });
  return {
    public_key: pair.publicKey,
    status: overlapMs > 0 ? 'next' : 'active',
    active_from: switchAt,
    retired_at: null,
  };
}

/**
 * `signerFor(organizationId)`: the organization's current signer, cached per node for up to
 * `maxAgeMs` and never past a scheduled switch, so a rotation takes effect on time on every node.
 */
export function createSignerLookup(store: KeyRepos, maxAgeMs = SIGNER_CACHE_MS) {
  const cache = new Map<string, { keyId: string; signer: Signer; expires: number }>();
  return async (organizationId: string): Promise<Signer> => {
    const now = Date.now();
    const hit = cache.get(organizationId);
    if (hit && hit.expires > now) return hit.signer;
    const keys = await loadKeySet(store, organizationId, new Date(now));
    const signer = hit?.keyId === keys.current.id ? hit.signer : createSigner(keys.current.private_key_pem);
    if (cache.size >= 10_000) cache.clear();
    cache.set(organizationId, {
      keyId: keys.current.id,
      signer,
      expires: Math.min(now + maxAgeMs, keys.changesAt ?? Number.POSITIVE_INFINITY),
    });
    return signer;
  };
}
