import type { MediaStore } from '../media/media-store.ts';
import type { SendDeps } from '../messages/create-group-mms.ts';
import type { RateTable } from '../messages/pricing.ts';
import type { Store } from '../store/store.ts';
import type { Authenticator } from '../tenants/api-keys.ts';

/** What the HTTP layer needs from the rest of the gateway. */
export interface ApiContext {
  store: Store;
  auth: Authenticator;
  send: SendDeps;
  rates: RateTable | null;
  countryOf(e164: string): string | null;
  /** Base64 of the raw Ed25519 public key webhooks are signed with. */
  publicKey(): Promise<string>;
  /** Content-addressed media the gateway stores and serves at `/media/<sha256>`. */
  media: MediaStore;
  /** For /readyz: whether this process's workers are running; null when it runs no worker role. */
  workersRunning(): boolean | null;
}
