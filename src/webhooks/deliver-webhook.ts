import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { webhookAttempts, webhookLatency } from '../metrics/metrics.ts';
import { WEBHOOK_QUEUE } from '../pipeline/emit-event.ts';
import { batchedRead } from '../queue/batched-read.ts';
import type { JobHandler } from '../queue/job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from '../queue/retry-schedule.ts';
import type { JobRecord, WebhookAttemptRecord, WebhookEventRecord } from '../store/records.ts';
import type { Repos, Store } from '../store/store.ts';
import { buildEnvelope, type OutboundMessageEventType } from './envelope.ts';
import { postWebhook, type WebhookAttemptResult } from './post-webhook.ts';
import type { Signer } from './signing.ts';

export interface DeliverWebhookDeps {
  store: Store;
  /** The organization's current signer (its own key; see organization-signing-keys.ts). */
  signerFor(organizationId: string): Promise<Signer>;
  dispatcher: Dispatcher;
  timeoutMs: number;
  schedule: RetrySchedule;
  /**
   * Whether the tenant may see the response body from `url`. False for an internal service reached
   * through OUTBOUND_ALLOW_CIDRS in production: its replies are the operator's business.
   */
  showResponseBody?: (url: string) => boolean;
  /**
   * Where the full detail of failed attempts goes (addresses included; tenants see a summary), and
   * a warning when a URL is retired (refused by the outbound guard, or 410).
   */
  logger?: Pick<Logger, 'warn'>;
  /**
   * Sandbox chaos (src/chaos/webhook-chaos.ts) around one attempt: it may answer for it, or post it
   * more than once. Absent: the attempt is posted as is.
   */
  interceptAttempt?(
    event: WebhookEventRecord,
    round: number,
    post: () => Promise<WebhookAttemptResult>,
  ): Promise<WebhookAttemptResult>;
}

/**
 * `webhook.deliver`: one round tries the event's URLs in order (message URL, its failover, then the
 * profile's) and stops at the first 2xx. A 410 retires that URL for the event. When no URL took it,
 * the round is retried on the schedule, honouring the longest Retry-After. Every attempt is stored.
 * The event id is the same in every attempt; `meta.attempt` counts rounds.
 */
export function deliverWebhookHandler(deps: DeliverWebhookDeps): JobHandler {
  const { store } = deps;
  // The webhook jobs started together (a completed batch's, a claim's) read their events at once.
  const readEvent = batchedRead((ids) => store.webhooks.getEvents(ids));
  return {
    queue: WEBHOOK_QUEUE,
    async run(control) {
      const event =
        (control.job.fresh as WebhookEventRecord | undefined) ??
        (await readEvent(String(control.job.payload.eventId)));
      if (event?.status !== 'pending') return control.complete();
      const round = event.attempts + 1;
      const urls = event.urls.map((u) => ({ ...u }));
      const attempts: Array<Omit<WebhookAttemptRecord, 'id'>> = [];
      let deliveredTo: string | null = null;
      let retryAfterMs: number | null = null;

      for (const target of urls) {
        if (target.gone) continue;
        const body = buildEnvelope({
          id: event.id,
          eventType: event.event_type as OutboundMessageEventType,
          occurredAt: new Date(event.occurred_at),
          payload: event.payload,
          attempt: round,
          deliveredTo: target.url,
        });
        const headers = {
          ...(await deps.signerFor(event.organization_id))(body, Math.floor(Date.now() / 1000)),
        };
        const post = () =>
          postWebhook({
            url: target.url,
            body,
            headers,
            dispatcher: deps.dispatcher,
            timeoutMs: deps.timeoutMs,
            onAbort: control.onAbort,
          });
        const result = deps.interceptAttempt ? await deps.interceptAttempt(event, round, post) : await post();
        control.throwIfAborted();
        webhookAttempts.inc({ outcome: result.outcome });
        webhookLatency.observe({ outcome: result.outcome }, result.durationMs / 1000);
        if (result.operatorError !== null) {
          deps.logger?.warn(
            { eventId: event.id, url: target.url, outcome: result.outcome, cause: result.operatorError },
            'webhook attempt failed',
          );
        }
        const showBody = deps.showResponseBody?.(target.url) ?? true;
        attempts.push({
          event_id: event.id,
          attempt: round,
          url: target.url,
          outcome: result.outcome,
          status_code: result.statusCode,
          duration_ms: Math.round(result.durationMs),
          response_body: showBody ? result.responseBody : null,
          error: result.error,
          created_at: new Date().toISOString(),
          request_headers: headers,
        });
        if (result.outcome === 'delivered') {
          deliveredTo = target.url;
          break;
        }
        if (result.outcome === 'gone') target.gone = true;
        if (result.outcome === 'gone')
          deps.logger?.warn(
            {
              eventId: event.id,
              url: target.url,
              reason: result.operatorError ?? result.error ?? `HTTP ${result.statusCode}`,
            },
            'webhook URL retired',
          );
        if (result.retryAfterMs !== null) retryAfterMs = Math.max(retryAfterMs ?? 0, result.retryAfterMs);
      }

      const saveAttempts = (tx: Repos) => tx.webhooks.insertAttempts(attempts);
      const now = new Date().toISOString();
      const delay = urls.every((u) => u.gone)
        ? null
        : nextRetryDelay(deps.schedule, round, Math.random, retryAfterMs);

      if (deliveredTo !== null) {
        return control.complete(async (tx) => {
          await saveAttempts(tx);
          await tx.webhooks.updateEvent(event.id, {
            urls,
            status: 'delivered',
            attempts: round,
            delivered_to: deliveredTo,
            completed_at: now,
          });
        });
      }
      const last = attempts.at(-1);
      const error = `webhook not delivered: ${last?.error ?? last?.status_code}`;
      if (delay === null) {
        // Out of rounds (or every URL gone): the event is `failed`, and the job is kept for the operator.
        return control.fail(error, async (tx) => {
          await saveAttempts(tx);
          await tx.webhooks.updateEvent(event.id, {
            urls,
            status: 'failed',
            attempts: round,
            delivered_to: null,
            completed_at: now,
          });
        });
      }
      const runAt = Date.now() + delay;
      return control.retryAt(runAt, error, async (tx) => {
        await saveAttempts(tx);
        await tx.webhooks.updateEvent(event.id, {
          urls,
          status: 'pending',
          attempts: round,
          delivered_to: null,
          completed_at: null,
          next_attempt_at: new Date(runAt).toISOString(),
        });
      });
    },
    // Crashed too often: the event is `failed`, so its state says it will not be delivered.
    async giveUp(job: JobRecord, tx: Repos) {
      const event = await tx.webhooks.getEvent(String(job.payload.eventId));
      if (event?.status !== 'pending') return;
      await tx.webhooks.updateEvent(event.id, {
        urls: event.urls,
        status: 'failed',
        attempts: event.attempts,
        delivered_to: null,
        completed_at: new Date().toISOString(),
      });
    },
  };
}
