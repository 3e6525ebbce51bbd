import path from 'node:path';
import type { Logger } from 'pino';
import { createSimulator } from '../carriers/simulator.ts';
import { createStoreLedger } from '../carriers/store-ledger.ts';
import type { Config } from '../config/config.ts';
import { fetchMessageMedia } from '../media/fetch-message-media.ts';
import { createFileMediaStore } from '../media/media-store.ts';
import { createOutboundDispatcher } from '../net/outbound-guard.ts';
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
import { createSigner, type SigningKeyPair } from '../webhooks/signing.ts';
import { applyReportHandler } from './apply-report.ts';
import { sendMessageHandler } from './send-message.ts';

/** The worker role: media, carrier submits, delivery reports and webhooks, all run from the database. */
export function startPipeline(
  config: Config,
  store: Store,
  signingKey: SigningKeyPair,
  logger: Logger,
): WorkerPool {
  const dispatcher = createOutboundDispatcher({
    allowCidrs: config.outboundAllowCidrs,
    connectTimeoutMs: 5_000,
  });
  const mediaStore = createFileMediaStore(path.join(config.dataDir, 'media'));
  const scale = (s: typeof WEBHOOK_RETRY_SCHEDULE) => scaleSchedule(s, config.retryScale);
  let pool: WorkerPool | null = null;
  const wake = () => pool?.wake();

  const connector = createSimulator({
    ledger: createStoreLedger(store, wake),
    reportDelayMs: config.simulator.reportDelayMs,
    slowReportDelayMs: config.simulator.slowReportDelayMs,
    carrierDownAttempts: config.simulator.carrierDownAttempts,
  });

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
        connectorFor: async () => connector,
        mediaStore,
        carrierRetry: scale(CARRIER_RETRY_SCHEDULE),
        fetchMedia: (urls) =>
          fetchMessageMedia(urls, {
            store: mediaStore,
            dispatcher,
            headersTimeoutMs: 10_000,
            bodyTimeoutMs: 10_000,
            totalTimeoutMs: 30_000,
            maxRedirects: 5,
          }),
      }),
      applyReportHandler({ store, unmatchedRetry: UNMATCHED_REPORT_RETRY_SCHEDULE }),
      deliverWebhookHandler({
        store,
        sign: createSigner(signingKey.privateKeyPem),
        dispatcher,
        timeoutMs: config.webhookTimeoutMs,
        schedule: scale(WEBHOOK_RETRY_SCHEDULE),
      }),
    ],
  });
  const workers = pool;
  return {
    workerId: workers.workerId,
    wake: () => workers.wake(),
    async stop() {
      await workers.stop();
      await dispatcher.close();
    },
  };
}
