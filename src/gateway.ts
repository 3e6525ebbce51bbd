import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.ts';
import { createFailedAuthLimiter } from './api/failed-auth-limiter.ts';
import { mediaPath } from './api/routes/media.ts';
import { createConnectorDirectory } from './carriers/connector-directory.ts';
import type { Config } from './config/config.ts';
import { receiveMessage } from './inbound/receive-message.ts';
import { createFileMediaStore } from './media/media-store.ts';
import { SEND_QUEUE } from './messages/create-group-mms.ts';
import { analyzeText } from './messages/encoding.ts';
import { loadRateTable, type RateTable } from './messages/pricing.ts';
import { parseE164 } from './numbers/e164.ts';
import { createNumberLookup } from './numbers/lookup.ts';
import { DEMO_PREFIX_TABLE_URL, loadPrefixTable } from './numbers/prefix-table.ts';
import { startPipeline } from './pipeline/start-pipeline.ts';
import type { WorkerPool } from './queue/worker-pool.ts';
import { openStore } from './store/open-store.ts';
import { ensurePrivateDir } from './store/private-files.ts';
import type { Store } from './store/store.ts';
import { createAuthenticator } from './tenants/api-keys.ts';
import { bootstrapSandbox, type SandboxInfo } from './tenants/bootstrap.ts';
import { createRateLimiter } from './tenants/rate-limiter.ts';
import { ensureOrganizationSigningKeys } from './webhooks/organization-signing-keys.ts';

export interface Gateway {
  store: Store;
  workers: WorkerPool | null;
  app: FastifyInstance | null;
  /** The API's base URL when the api role runs. */
  url: string | null;
  sandbox: SandboxInfo | null;
  close(): Promise<void>;
}

/** Starts the roles this process runs (API and/or workers) on one store. */
export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  const openMode = ensurePrivateDir(config.dataDir);
  if (openMode !== null) {
    logger.warn(
      { dataDir: config.dataDir, mode: openMode.toString(8), now: '700' },
      'data folder was readable by other users; made it private (0700)',
    );
  }
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const sandbox = config.bootstrap ? await bootstrapSandbox(store) : null;
  const keysCreated = await ensureOrganizationSigningKeys(store);
  if (keysCreated > 0)
    logger.info(
      { organizations: keysCreated },
      'created webhook signing keys for organizations that had none',
    );

  const lookup = createNumberLookup({
    table: loadPrefixTable(config.prefixTableFile ?? DEMO_PREFIX_TABLE_URL),
  });
  const rates: RateTable | null = config.rateTableFile ? loadRateTable(config.rateTableFile) : null;

  const workers: WorkerPool | null = config.roles.includes('worker')
    ? startPipeline(config, store, logger)
    : null;
  const unsubscribe = workers ? await store.subscribeToWork((queue) => workers.wake(queue)) : null;

  let closed = false;
  let app: FastifyInstance | null = null;
  let url: string | null = null;
  if (config.roles.includes('api')) {
    const media = createFileMediaStore(path.join(config.dataDir, 'media'));
    // Media links point at PUBLIC_URL, or at the address the API listens on (known once it listens).
    let baseUrl = config.publicUrl ?? '';
    app = buildApp(
      {
        store,
        auth: createAuthenticator(store, {
          ttlMs: config.apiKeyCacheTtlMs,
          onError: (err) => logger.warn({ err }, 'could not record when an API key was last used'),
        }),
        failedAuth: createFailedAuthLimiter(config.rateLimit.authFailuresPerIpPerMinute),
        rateLimiter: createRateLimiter(store, config.rateLimit),
        rates,
        countryOf: (e164) => parseE164(e164)?.country ?? null,
        publicUrl: config.publicUrl,
        media,
        mm7: {
          store,
          connectors: createConnectorDirectory(store, {
            defaultConnector: config.defaultConnector,
            cacheMs: config.connectorCacheMs,
          }),
          receive: (message) =>
            receiveMessage({ store, media, mediaUrl: (sha256) => `${baseUrl}${mediaPath(sha256)}` }, message),
          onWork: () => workers?.wake(),
        },
        workersRunning: () => (workers ? !closed : null),
        send: {
          store,
          lookupNumber: (e164) => lookup.lookup(e164),
          analyzeText,
          rates,
          queueLifetimeMs: config.queueLifetimeSeconds * 1000,
          onQueued: () => workers?.wake(SEND_QUEUE),
        },
      },
      { bodyLimitBytes: config.bodyLimitBytes, logger, timeouts: config.http },
    );
    const address = await app.listen({ port: config.port, host: config.host });
    url = address;
    if (!config.publicUrl) baseUrl = address;
  }

  logger.info({ url, roles: config.roles, sandbox: config.sandbox }, 'gateway started');
  if (config.sandbox) {
    logger.info(
      'sandbox mode: webhooks and media may go to loopback addresses (SANDBOX=false to refuse them)',
    );
  }

  return {
    store,
    workers,
    app,
    url,
    sandbox,
    async close() {
      if (closed) return;
      closed = true;
      // Stop taking requests and let in-flight ones finish; stop claiming work, let running jobs
      // finish (bounded) and hand the rest back; then close the database.
      if (app) await app.close();
      await unsubscribe?.();
      if (workers) await workers.stop();
      await store.close();
    },
  };
}
