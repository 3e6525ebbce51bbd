/**
 * Chaos on the webhook path (sandbox only): duplicate, reorder, delay, fail and time out deliveries
 * of events of messages the simulator carries.
 *
 * Replays must give the same deliveries, so while an organization has webhook rules the deliveries
 * of one recipient are sequenced: an event waits until the recipient's earlier events are delivered
 * or failed. The only disorder left is the one injected (webhook.reorder sends a recipient's
 * message.sent after its message.finalized). Each decision is drawn from a hash of the rule's seed
 * and the event's key (recipient number, event type, message position in the run, attempt).
 */
import type { JobControl, JobHandler } from '../queue/job-handler.ts';
import type { MessageRecord, WebhookEventRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { WebhookAttemptResult } from '../webhooks/post-webhook.ts';
import { classifyStatus } from '../webhooks/post-webhook.ts';
import type { ChaosEngine } from './chaos-engine.ts';
import type { ChaosRuleRecord } from './rules.ts';

/** A held event looks again this often. */
const HOLD_POLL_MS = 20;
/** A reordered message.sent waits at most this long for a later event of its recipient. */
export const REORDER_MAX_HOLD_MS = 10_000;

/**
 * A recipient's events in the order its life had them. Not by creation time: message.finalized
 * carries the report's time, which can be earlier than when message.sent was recorded.
 */
const LIFE_ORDER: Record<string, number> = { 'message.sent': 0, 'message.finalized': 1 };
const inLifeOrder = (a: WebhookEventRecord, b: WebhookEventRecord) =>
  (LIFE_ORDER[a.event_type] ?? 0) - (LIFE_ORDER[b.event_type] ?? 0) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const EVENT_KINDS = new Set(['webhook.duplicate', 'webhook.delay', 'webhook.reorder']);

interface EventScene {
  message: MessageRecord;
  phone: string;
  ordinal: number;
  rules: ChaosRuleRecord[];
}

export interface WebhookChaos {
  /** Wraps the webhook.deliver handler: holds events for sequencing, reordering and delays. */
  wrap(handler: JobHandler): JobHandler;
  /** For DeliverWebhookDeps.interceptAttempt: fails, times out or duplicates one attempt. */
  interceptAttempt(
    event: WebhookEventRecord,
    round: number,
    post: () => Promise<WebhookAttemptResult>,
  ): Promise<WebhookAttemptResult>;
}

export function createWebhookChaos(store: Store, chaos: ChaosEngine): WebhookChaos {
  /**
   * The message, recipient and matching rules (maybe none: its deliveries are still sequenced) of an
   * event; null when chaos leaves it alone.
   */
  async function sceneOf(event: WebhookEventRecord): Promise<EventScene | null> {
    if (!(await chaos.anyRules('webhook.', event.organization_id))) return null;
    const found = await store.messages.get(event.message_id);
    if (!found || found.message.direction === 'inbound') return null;
    const { message } = found;
    const recipient = found.recipients.find((r) => r.id === event.recipient_id);
    if (!recipient) return null;
    const rules = await chaos.rulesFor('webhook.', {
      organizationId: message.organization_id,
      from: message.from_number,
      to: [recipient.phone_number],
      profileId: message.messaging_profile_id,
    });
    // Production traffic is never touched: only messages the simulator carries.
    if (!(await chaos.eligible(message.messaging_profile_id))) return null;
    return {
      message,
      phone: recipient.phone_number,
      ordinal: await chaos.ordinal(message.organization_id, message.id),
      rules,
    };
  }

  const keyOf = (scene: EventScene, event: WebhookEventRecord) =>
    `${scene.phone}|${event.event_type}|${scene.ordinal}`;

  async function record(
    scene: EventScene,
    event: WebhookEventRecord,
    rule: ChaosRuleRecord,
    detail: Record<string, unknown> = {},
  ) {
    await chaos.record({
      rule,
      organizationId: scene.message.organization_id,
      kind: rule.kind,
      messageId: event.message_id,
      recipientId: event.recipient_id,
      webhookEventId: event.id,
      detail: { event_type: event.event_type, ...detail },
    });
  }

  /** Decides the event-level faults once, on the event's first run. */
  async function decide(scene: EventScene, event: WebhookEventRecord) {
    const key = keyOf(scene, event);
    for (const rule of scene.rules) {
      if (!EVENT_KINDS.has(rule.kind)) continue;
      if (rule.kind === 'webhook.reorder' && event.event_type !== 'message.sent') continue;
      if (!(await chaos.fires(rule, key))) continue;
      if (rule.kind === 'webhook.delay') {
        const delayMs = chaos.pick(rule, key, rule.params.min_ms ?? 0, rule.params.max_ms ?? 0);
        await record(scene, event, rule, { delay_ms: delayMs });
      } else {
        await record(scene, event, rule);
      }
    }
  }

  const hold = (control: JobControl, ms: number, why: string) =>
    control.retryAt(Date.now() + Math.max(1, ms), `chaos: ${why}`);

  return {
    wrap(handler) {
      return {
        ...handler,
        async run(control) {
          if (!(await chaos.anyRules('webhook.'))) return handler.run(control);
          const event = await store.webhooks.getEvent(String(control.job.payload.eventId));
          const scene = event?.status === 'pending' ? await sceneOf(event) : null;
          if (!event || !scene) return handler.run(control);

          const siblings = (await store.webhooks.listEventsForMessage(event.message_id))
            .filter((e) => e.recipient_id === event.recipient_id)
            .sort(inLifeOrder);
          const faults = await store.chaos.faultsForMessage(event.message_id);
          const kindsOf = (id: string) =>
            new Set(faults.filter((f) => f.webhook_event_id === id).map((f) => f.kind));
          const index = siblings.findIndex((e) => e.id === event.id);
          const waitingFor = siblings
            .slice(0, Math.max(0, index))
            .find((e) => e.status === 'pending' && !kindsOf(e.id).has('webhook.reorder'));
          if (waitingFor)
            return hold(control, HOLD_POLL_MS, `after event ${waitingFor.id} of the same recipient`);

          if (event.attempts > 0) return handler.run(control);
          let mine = kindsOf(event.id);
          if (![...mine].some((k) => EVENT_KINDS.has(k))) {
            await decide(scene, event);
            mine = new Set((await store.chaos.faultsForEvent(event.id)).map((f) => f.kind));
          }
          const age = Date.now() - Date.parse(event.created_at);
          if (mine.has('webhook.reorder') && age < REORDER_MAX_HOLD_MS) {
            const later = siblings.slice(index + 1);
            if (!later.some((e) => e.status !== 'pending')) {
              return hold(control, HOLD_POLL_MS, 'reordered: after a later event of the same recipient');
            }
          }
          if (mine.has('webhook.delay')) {
            const delay = (await store.chaos.faultsForEvent(event.id)).find(
              (f) => f.kind === 'webhook.delay',
            );
            const delayMs = Number(
              (JSON.parse(delay?.detail ?? '{}') as { delay_ms?: number }).delay_ms ?? 0,
            );
            if (age < delayMs) return hold(control, delayMs - age, `delayed ${delayMs} ms`);
          }
          return handler.run(control);
        },
      };
    },

    async interceptAttempt(event, round, post) {
      const scene = await sceneOf(event);
      if (!scene) return post();
      const key = `${keyOf(scene, event)}|${round}`;
      for (const rule of scene.rules) {
        if (rule.kind !== 'webhook.fail') continue;
        // By probability: a chosen event fails its first `attempts` rounds; counted: the next N attempts.
        const chosen =
          rule.remaining !== null
            ? await chaos.fires(rule, key)
            : round <= (rule.params.attempts ?? 1) && (await chaos.fires(rule, keyOf(scene, event)));
        if (!chosen) continue;
        const status = rule.params.status ?? 503;
        await record(scene, event, rule, { attempt: round, status });
        return {
          outcome: classifyStatus(status),
          statusCode: status,
          durationMs: 0,
          responseBody: null,
          error: `HTTP ${status} injected by chaos rule ${rule.id}`,
          operatorError: null,
          retryAfterMs: null,
        };
      }
      for (const rule of scene.rules) {
        if (rule.kind !== 'webhook.timeout' || !(await chaos.fires(rule, key))) continue;
        // The receiver gets the request, but the gateway stops waiting: it will come again.
        const result = await post();
        await record(scene, event, rule, { attempt: round, receiver_status: result.statusCode });
        return {
          ...result,
          outcome: 'retry',
          responseBody: null,
          error: `timed out (injected by chaos rule ${rule.id})`,
          operatorError: null,
          retryAfterMs: null,
        };
      }
      const result = await post();
      if (result.outcome === 'delivered') {
        const faults = await store.chaos.faultsForEvent(event.id);
        if (faults.some((f) => f.kind === 'webhook.duplicate')) await post();
      }
      return result;
    },
  };
}
