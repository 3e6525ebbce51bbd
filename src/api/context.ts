import type { ChaosEngine } from '../chaos/chaos-engine.ts';
import type { MediaStore } from '../media/media-store.ts';
import type { SendDeps } from '../messages/create-group-mms.ts';
import type { RateTable } from '../messages/pricing.ts';
import type { QueueCap } from '../messages/queue-cap.ts';
import type { Store } from '../store/store.ts';
import type { Authenticator } from '../tenants/api-keys.ts';
import type { RateLimiter } from '../tenants/rate-limiter.ts';
import type { FailedAuthLimiter } from './failed-auth-limiter.ts';
import type { BandwidthCallbackRouteDeps } from './routes/bandwidth-callbacks.ts';
import type { Mm7RouteDeps } from './routes/mm7.ts';
import type { SimulatorRouteDeps } from './routes/simulator.ts';
import type { UpstreamWebhookRouteDeps } from './routes/telnyx-upstream-webhooks.ts';

/** What the HTTP layer needs from the rest of the gateway. */
export interface ApiContext {
  store: Store;
  auth: Authenticator;
  failedAuth: FailedAuthLimiter;
  rateLimiter: RateLimiter;
  send: SendDeps;
  /** The per-organization cap on messages waiting to be sent; absent: no cap. */
  queueCap?: QueueCap;
  rates: RateTable | null;
  countryOf(e164: string): string | null;
  /** Content-addressed media the gateway stores and serves at `/media/<sha256>`. */
  media: MediaStore;
  /** PUBLIC_URL: the address the outside world reaches the gateway at (links to stored media). */
  publicUrl: string | undefined;
  /** The MM7 receiver at `/mm7/<connector>`; absent: not served. */
  mm7?: Mm7RouteDeps;
  /** The Telnyx-compatible upstreams' webhook receiver at `/connectors/<name>/webhooks`; absent: not served. */
  upstreamWebhooks?: UpstreamWebhookRouteDeps;
  /** The sandbox's `/v2/simulator/` extensions (handsets, waiting helpers); absent: not served. */
  simulator?: SimulatorRouteDeps;
  /** Bandwidth callbacks at `/connectors/<name>/callbacks`; absent: not served. */
  bandwidth?: BandwidthCallbackRouteDeps;
  /** Chaos mode's rules and faults (sandbox extension); absent: its routes are not served. */
  chaos?: ChaosEngine;
  /** For /readyz: whether this process's workers are running; null when it runs no worker role. */
  workersRunning(): boolean | null;
}
