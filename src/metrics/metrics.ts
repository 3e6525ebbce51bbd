import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/store.ts';

/**
 * The gateway's Prometheus metrics. Counters and histograms are module-level (prom-client's usual
 * shape), so the code that counts needs one import and one line; the queue gauges are read from the
 * jobs table at scrape time, so the queue code knows nothing about metrics.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'mms_gateway_' });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const acceptedMessages = new Counter({
  name: 'mms_gateway_accepted_messages_total',
  help: 'Group messages accepted by the API.',
  registers: [registry],
});

export const statusTransitions = new Counter({
  name: 'mms_gateway_recipient_status_transitions_total',
  help: 'Recipient status changes, by the status moved to.',
  labelNames: ['status'],
  registers: [registry],
});

export const webhookAttempts = new Counter({
  name: 'mms_gateway_webhook_attempts_total',
  help: 'Webhook delivery attempts, by outcome (delivered, retry, gone, failed).',
  labelNames: ['outcome'],
  registers: [registry],
});

export const webhookLatency = new Histogram({
  name: 'mms_gateway_webhook_attempt_seconds',
  help: 'Webhook attempt duration, by outcome.',
  labelNames: ['outcome'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const carrierSubmitLatency = new Histogram({
  name: 'mms_gateway_carrier_submit_seconds',
  help: 'Carrier submit duration, by connector.',
  labelNames: ['connector', 'ok'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const httpLatency = new Histogram({
  name: 'mms_gateway_http_request_seconds',
  help: 'API request duration, by route pattern and status code.',
  labelNames: ['method', 'route', 'status_code'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const queueDepth = new Gauge({
  name: 'mms_gateway_queue_depth',
  help: 'Jobs in the queue (state=due: their time has come; state=all).',
  labelNames: ['queue', 'state'],
  registers: [registry],
});

const queueAge = new Gauge({
  name: 'mms_gateway_queue_oldest_due_seconds',
  help: 'How long the longest-waiting due job of the queue has been waiting.',
  labelNames: ['queue'],
  registers: [registry],
});

/** The Prometheus text of every metric, with the queue gauges read from `store` now. */
export async function scrape(store: Store): Promise<string> {
  const now = Date.now();
  queueDepth.reset();
  queueAge.reset();
  for (const q of await store.operations.queueStats(now)) {
    queueDepth.set({ queue: q.queue, state: 'all' }, q.depth);
    queueDepth.set({ queue: q.queue, state: 'due' }, q.due);
    queueAge.set({ queue: q.queue }, q.oldestDueAt === null ? 0 : Math.max(0, now - q.oldestDueAt) / 1000);
  }
  return registry.metrics();
}

export const METRICS_CONTENT_TYPE = registry.contentType;
