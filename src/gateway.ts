import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.ts';
import { createFailedAuthLimiter } from './api/failed-auth-limiter.ts';
import { mediaPath } from './api/routes/media.ts';
import type { SimulatorRouteDeps } from './api/routes/simulator.ts';
import { createConnectorDirectory } from './carriers/connector-directory.ts';
import { fetchInboundMedia } from './carriers/telnyx/index.ts';
import { createChaosEngine } from './chaos/chaos-engine.ts';
import { installEnvChaosRules } from './chaos/env-rules.ts';
import type { Config } from './config/config.ts';
import { type ReceivedMessage, receiveMessage } from './inbound/receive-message.ts';
import { fetchMessageMedia } from './media/fetch-message-media.ts';
import { createFileMediaStore, type MediaStore } from './media/media-store.ts';
import { SEND_QUEUE, type SendDeps } from './messages/create-group-mms.ts';
import { analyzeText } from './messages/encoding.ts';
import { loadRateTable, type RateTable } from './messages/pricing.ts';
import { createQueueCap } from './messages/queue-cap.ts';
import { createStatusWaiter, type StatusWaiter } from './messages/status-waiter.ts';
import { createInternalOrigins, createOutboundDispatcher } from './net/outbound-guard.ts';
import { parseE164 } from './numbers/e164.ts';
import { createNumberLookup } from './numbers/lookup.ts';
import { DEMO_PREFIX_TABLE_URL, loadPrefixTable } from './numbers/prefix-table.ts';
import { outboundAllowList, startPipeline } from './pipeline/start-pipeline.ts';
import { batchedTransactions } from './queue/batched-transaction.ts';
import type { WorkerPool } from './queue/worker-pool.ts';
import { openStore } from './store/open-store.ts';
import { ensurePrivateDir } from './store/private-files.ts';
import type { Repos, Store } from './store/store.ts';
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
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    backgroundCheckpoints: true,
  });
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
  // How messages are queued: by the send API, and by the inbound intake for STOP/START/HELP replies.
  const send: SendDeps = {
    store,
    lookupNumber: (e164) => lookup.lookup(e164),
    analyzeText,
    rates,
    queueLifetimeMs: config.queueLifetimeSeconds * 1000,
    onQueued: (organizationId) => workers?.wake(SEND_QUEUE, organizationId),
    localWorkers: (queue, organizationId) => workers?.reserve(queue, organizationId) ?? null,
    ...(store.dialect === 'postgres' ? { transaction: batchedTransactions(store) } : {}),
  };

  const media = createFileMediaStore(path.join(config.dataDir, 'media'));
  // Media links point at PUBLIC_URL, or at the address the API listens on (known once it listens).
  let baseUrl = config.publicUrl ?? '';
  const connectors = createConnectorDirectory(store, {
    defaultConnector: config.defaultConnector,
    cacheMs: config.connectorCacheMs,
  });
  const receive = (message: ReceivedMessage, inTransaction?: (tx: Repos) => Promise<void>) =>
    receiveMessage(
      { store, media, mediaUrl: (sha256) => `${baseUrl}${mediaPath(sha256)}`, replies: send },
      message,
      inTransaction,
    );

  const envRules = await installEnvChaosRules(store, config.chaos.rules, config.chaos.seed);
  if (envRules.length > 0) {
    logger.warn(
      { rules: envRules.map((r) => ({ id: r.id, kind: r.kind, seed: r.seed })) },
      'chaos mode: CHAOS_RULES inject faults into messages the simulator carries',
    );
  }
  const chaos = createChaosEngine({
    store,
    directory: connectors,
    seed: config.chaos.seed,
    logger: logger.child({ role: 'chaos' }),
  });

  const workers: WorkerPool | null = config.roles.includes('worker')
    ? startPipeline(config, store, logger, { receive, chaos })
    : null;
  const unsubscribe = workers
    ? await store.subscribeToWork((queue, fairKey) => workers.wake(queue, fairKey))
    : null;

  let closed = false;
  let app: FastifyInstance | null = null;
  let url: string | null = null;
  const simulator =
    config.roles.includes('api') && config.sandbox
      ? sandboxExtensions(config, logger, store, media, receive, () => workers?.wake())
      : null;
  if (config.roles.includes('api')) {
    // What every carrier receiver (MM7, Bandwidth callbacks) needs: connector settings and the intake.
    const inbound = {
      store,
      connectors,
      receive: (message: ReceivedMessage) => receive(message),
      onWork: () => workers?.wake(),
    };
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
        mm7: inbound,
        bandwidth: inbound,
        upstreamWebhooks: {
          store,
          connectors,
          receive,
          fetchMedia: (list) => fetchInboundMedia(list),
          onWork: () => workers?.wake(),
        },
        ...(simulator ? { simulator: simulator.deps } : {}),
        workersRunning: () => (workers ? !closed : null),
        // Chaos mode's routes and API faults are a sandbox extension, like the handsets.
        ...(config.sandbox ? { chaos } : {}),
        queueCap: createQueueCap(store, config.maxQueuedMessagesPerOrganization),
        send,
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
      simulator?.deps.waiter.close();
      if (app) await app.close();
      await simulator?.close();
      await unsubscribe?.();
      if (workers) await workers.stop();
      await store.close();
    },
  };
}

/**
 * The sandbox's `/v2/simulator/` routes: simulated handsets fetch their media through their own
 * outbound guard (the sandbox's allow-list, loopback included), and one shared waiter serves every
 * waiting request of this node.
 */
function sandboxExtensions(
  config: Config,
  logger: Logger,
  store: Store,
  media: MediaStore,
  receive: (message: ReceivedMessage) => ReturnType<typeof receiveMessage>,
  onWork: () => void,
): { deps: SimulatorRouteDeps & { waiter: StatusWaiter }; close(): Promise<void> } {
  const dispatcher = createOutboundDispatcher({
    allowCidrs: outboundAllowList(config),
    connectTimeoutMs: 5_000,
    internalOrigins: createInternalOrigins(),
  });
  return {
    deps: {
      store,
      mediaStore: media,
      receive,
      onWork,
      fetchMedia: async (urls) => {
        const result = await fetchMessageMedia(urls, {
          store: media,
          dispatcher,
          headersTimeoutMs: 10_000,
          bodyTimeoutMs: 10_000,
          totalTimeoutMs: config.media.fetchBudgetMs,
          concurrency: config.media.fetchConcurrency,
          maxRedirects: 5,
        });
        // The caller sees the error without addresses; the operator's log has all of it.
        if (!result.ok) {
          logger.warn(
            { urls, detail: result.error.detail, cause: result.error.operatorDetail },
            'simulated handset media refused',
          );
        }
        return result;
      },
      waiter: createStatusWaiter({
        pollMs: WAIT_POLL_MS,
        onError: (err) => logger.warn({ err }, 'a waiting request could not read the store; reading again'),
      }),
      // A waiting request is silent: it must answer before the connection's idle timeout cuts it.
      maxWaitMs: Math.max(1_000, Math.min(MAX_WAIT_MS, config.http.requestTimeoutMs - 1_000)),
    },
    close: () => dispatcher.close(),
  };
}

/** How often waiting requests read the store again (one read per waited message per tick). */
const WAIT_POLL_MS = 100;
const MAX_WAIT_MS = 60_000;
