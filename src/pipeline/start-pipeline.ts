import path from 'node:path';
import type { Logger } from 'pino';
import { connectorBuilder } from '../carriers/build-connector.ts';
import { createConnectorDirectory } from '../carriers/connector-directory.ts';
import { createConnectorRegistry } from '../carriers/connector-registry.ts';
import type { SimulatorOptions } from '../carriers/simulator.ts';
import { simulatorReplyHandler } from '../carriers/simulator-replies.ts';
import { createStoreLedger } from '../carriers/store-ledger.ts';
import { withCarrierChaos } from '../chaos/carrier-chaos.ts';
import { type ChaosEngine, createChaosEngine } from '../chaos/chaos-engine.ts';
import { createWebhookChaos } from '../chaos/webhook-chaos.ts';
import type { Config } from '../config/config.ts';
import type { ReceivedMessage, ReceiveOutcome } from '../inbound/receive-message.ts';
import { fetchMessageMedia } from '../media/fetch-message-media.ts';
import { createFileMediaStore } from '../media/media-store.ts';
import { createInternalOrigins, createOutboundDispatcher } from '../net/outbound-guard.ts';
import {
  CARRIER_RETRY_SCHEDULE,
  CRASHED_JOB_RETRY_SCHEDULE,
  scaleSchedule,
  UNMATCHED_REPORT_RETRY_SCHEDULE,
  WEBHOOK_RETRY_SCHEDULE,
} from '../queue/retry-schedule.ts';
import { startWorkerPool, type WorkerPool } from '../queue/worker-pool.ts';
import type { Store } from '../store/store.ts';
import { deliverWebhookHandler } from '../webhooks/deliver-webhook.ts';
import { createSignerLookup } from '../webhooks/organization-signing-keys.ts';
import { applyReportHandler } from './apply-report.ts';
import { sendMessageHandler } from './send-message.ts';
import { createRouteSubmitter } from './submit-along-route.ts';
import { createThroughputLimits } from './throughput-limits.ts';

/** Loopback, which a sandbox may reach: the developer's own webhook receiver and media server. */
export const SANDBOX_ALLOW_CIDRS = ['127.0.0.0/8', '::1/128'];

export function outboundAllowList(config: Config): string[] {
  return config.sandbox ? [...config.outboundAllowCidrs, ...SANDBOX_ALLOW_CIDRS] : config.outboundAllowCidrs;
}

export interface PipelineOptions {
  /** The inbound intake, for the simulator's scripted replies. Absent: they are not run. */
  receive?(message: ReceivedMessage): Promise<ReceiveOutcome>;
  /** Chaos mode's engine, shared with the API; absent: one of its own. */
  chaos?: ChaosEngine;
}

/** The worker role: media, carrier submits, delivery reports and webhooks, all run from the database. */
export function startPipeline(
  config: Config,
  store: Store,
  logger: Logger,
  options: PipelineOptions = {},
): WorkerPool {
  const internalOrigins = createInternalOrigins();
  const dispatcher = createOutboundDispatcher({
    allowCidrs: outboundAllowList(config),
    connectTimeoutMs: 5_000,
    internalOrigins,
  });
  // In a sandbox the developer is the operator; in production, replies of internal services
  // (reached only through the allow-list) stay out of the tenant's deliveries view unless opted in.
  const showInternalBodies = config.sandbox || config.showAllowlistedResponseBodies;
  const mediaStore = createFileMediaStore(path.join(config.dataDir, 'media'));
  const scale = (s: typeof WEBHOOK_RETRY_SCHEDULE) => scaleSchedule(s, config.retryScale);

  let pool: WorkerPool | null = null;
  const wake = () => pool?.wake();

  const directory = createConnectorDirectory(store, {
    defaultConnector: config.defaultConnector,
    cacheMs: config.connectorCacheMs,
  });
  const simulator: SimulatorOptions = {
    ledger: createStoreLedger(store, wake),
    reportDelayMs: config.simulator.reportDelayMs,
    slowReportDelayMs: config.simulator.slowReportDelayMs,
    carrierDownAttempts: config.simulator.carrierDownAttempts,
    replyDelayMs: config.simulator.replyDelayMs,
  };
  // Chaos mode (sandbox): around the simulator and the webhook deliverer only.
  const chaos =
    options.chaos ??
    createChaosEngine({ store, directory, seed: config.chaos.seed, logger: logger.child({ role: 'chaos' }) });
  const webhookChaos = createWebhookChaos(store, chaos);
  const connectors = createConnectorRegistry(
    directory,
    withCarrierChaos(connectorBuilder({ simulator, publicUrl: config.publicUrl }), simulator, {
      store,
      chaos,
      receiptDeadlineMs: config.chaos.receiptDeadlineMs,
    }),
  );

  pool = startWorkerPool({
    store,
    logger: logger.child({ role: 'worker' }),
    concurrency: config.worker.concurrency,
    pollMs: config.worker.pollMs,
    leaseMs: config.worker.leaseMs,
    shutdownGraceMs: config.worker.shutdownGraceMs,
    jobTimeoutMs: config.worker.jobTimeoutMs,
    crashSchedule: scale(CRASHED_JOB_RETRY_SCHEDULE),
    handlers: [
      sendMessageHandler({
        store,
        route: createRouteSubmitter({
          store,
          directory,
          connectorNamed: (name) => connectors.byName(name),
          breaker: config.connectorBreaker,
          limits: createThroughputLimits(store, directory, { cacheMs: config.connectorCacheMs }),
          logger: logger.child({ role: 'worker' }),
        }),
        mediaStore,
        carrierRetry: scale(CARRIER_RETRY_SCHEDULE),
        fetchMedia: async (urls) => {
          const result = await fetchMessageMedia(urls, {
            store: mediaStore,
            dispatcher,
            headersTimeoutMs: 10_000,
            bodyTimeoutMs: 10_000,
            totalTimeoutMs: config.media.fetchBudgetMs,
            concurrency: config.media.fetchConcurrency,
            maxRedirects: 5,
          });
          // The tenant sees the error without addresses; the operator's log has all of it.
          if (!result.ok) {
            logger.warn(
              { urls, detail: result.error.detail, cause: result.error.operatorDetail },
              'media refused',
            );
          }
          return result;
        },
      }),
      applyReportHandler({ store, unmatchedRetry: UNMATCHED_REPORT_RETRY_SCHEDULE }),
      ...(options.receive ? [simulatorReplyHandler({ store, receive: options.receive, onWork: wake })] : []),
      webhookChaos.wrap(
        deliverWebhookHandler({
          store,
          signerFor: createSignerLookup(store),
          dispatcher,
          timeoutMs: config.webhookTimeoutMs,
          schedule: scale(WEBHOOK_RETRY_SCHEDULE),
          showResponseBody: (url) => showInternalBodies || !internalOrigins.has(url),
          logger: logger.child({ role: 'webhooks' }),
          interceptAttempt: webhookChaos.interceptAttempt,
        }),
      ),
    ],
  });
  const workers = pool;
  return {
    workerId: workers.workerId,
    wake: (queue, fairKey) => workers.wake(queue, fairKey),
    reserve: (queue, fairKey) => workers.reserve(queue, fairKey),
    async stop() {
      await workers.stop();
      await connectors.close();
      await dispatcher.close();
    },
  };
}
