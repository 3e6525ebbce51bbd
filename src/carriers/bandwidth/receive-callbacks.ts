import type { ReceivedMessage, ReceiveOutcome } from '../../inbound/receive-message.ts';
import { recordDeliveryReport } from '../../pipeline/record-delivery-report.ts';
import type { Store } from '../../store/store.ts';
import type { BandwidthConnectorSettings } from '../connector-settings.ts';
import type { DeliveryReport } from '../types.ts';
import { type InboundEvent, readCallbackEvents, type StatusEvent } from './callback-events.ts';
import { mapFailedCallback } from './error-codes.ts';
import { fetchInboundMedia, InboundMediaError } from './inbound-media.ts';

export interface BandwidthCallbackDeps {
  store: Store;
  /** The inbound intake (connector-neutral). */
  receive(message: ReceivedMessage): Promise<ReceiveOutcome>;
  /** Work was committed: wake the workers. */
  onWork(): void;
  log: {
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  now?: () => Date;
}

export interface CallbackAnswer {
  httpStatus: number;
  body: Record<string, unknown>;
}

/** Status event → the report recorded for its recipient (matched by Bandwidth's id and the number). */
export function reportOf(event: StatusEvent): DeliveryReport {
  const base = { carrierMessageId: event.messageId, phoneNumber: event.to, occurredAt: event.time };
  switch (event.type) {
    case 'message-sending':
    case 'message-sent':
      return { ...base, status: 'sent' };
    case 'message-delivered':
      return { ...base, status: 'delivered' };
    case 'message-failed': {
      const mapped = mapFailedCallback(event.errorCode, event.description);
      return { ...base, status: mapped.status, error: mapped.error };
    }
  }
}

// Two copies of one inbound event handled at once by this process: the second waits for the first
// (across nodes, the receipt's unique dedup key keeps the second out).
const inboundInFlight = new Map<string, Promise<unknown>>();

/**
 * An authenticated callback batch for a Bandwidth connector. Status events are committed together
 * through the one durable entry for reports; each inbound event (one per number of ours) goes through
 * the inbound intake once: a copy already received (Bandwidth delivers at least once) changes nothing.
 * Only then is it answered 200; a failure on our side answers 503 so Bandwidth sends it again.
 */
export async function handleBandwidthCallbacks(
  deps: BandwidthCallbackDeps,
  connector: { name: string; settings: BandwidthConnectorSettings },
  body: unknown,
): Promise<CallbackAnswer> {
  const now = deps.now?.() ?? new Date();
  const read = readCallbackEvents(body, now);
  if (!read.ok) return { httpStatus: 400, body: { errors: read.problems } };

  const statuses = read.events.filter((e): e is StatusEvent => e.kind === 'status');
  const inbound = read.events.filter((e): e is InboundEvent => e.kind === 'inbound');
  try {
    if (statuses.length > 0) {
      await deps.store.transaction(async (tx) => {
        for (const event of statuses) await recordDeliveryReport(tx, reportOf(event), now.getTime());
      });
      deps.onWork();
    }
    for (const event of inbound) await receiveOnce(deps, connector, event);
  } catch (err) {
    if (err instanceof InboundMediaError) {
      deps.log.warn(
        { connector: connector.name, detail: err.message },
        'Bandwidth inbound media unavailable',
      );
      return { httpStatus: 503, body: { errors: ['inbound media could not be fetched; send it again'] } };
    }
    deps.log.error({ err, connector: connector.name }, 'Bandwidth callback failed');
    return { httpStatus: 503, body: { errors: ['not recorded; send it again'] } };
  }
  return { httpStatus: 200, body: { received: read.events.length } };
}

async function receiveOnce(
  deps: BandwidthCallbackDeps,
  connector: { name: string; settings: BandwidthConnectorSettings },
  event: InboundEvent,
): Promise<void> {
  const key = `${connector.name}\n${event.messageId}`;
  while (inboundInFlight.has(key)) await inboundInFlight.get(key)!.catch(() => {});
  const work = (async () => {
    const dedupKey = `bandwidth:${connector.name}:${event.messageId}`;
    if (await deps.store.inboundReceipts.findByDedupKey(dedupKey)) return;
    const media = await fetchInboundMedia(event.media, connector.settings);
    const outcome = await deps
      .receive({
        connector: connector.name,
        carrierMessageId: event.messageId,
        from: event.from,
        to: [event.owner],
        cc: event.to.filter((n) => n !== event.owner && n !== event.from),
        bcc: [],
        receivers: [event.owner],
        subject: null,
        text: event.text,
        media,
        details: { bandwidthTime: event.time.toISOString(), bandwidthMedia: event.media },
        dedupKey,
      })
      .catch(async (err: unknown) => {
        // Another node stored the same event meanwhile: its receipt's unique key refused ours.
        if (await deps.store.inboundReceipts.findByDedupKey(dedupKey)) return null;
        throw err;
      });
    if (!outcome) return;
    if (outcome.messageIds.length === 0) {
      deps.log.warn(
        { connector: connector.name, receipt: outcome.receiptId },
        'Bandwidth message-received to no registered number: kept as an unrouted receipt',
      );
    }
    if (outcome.webhooks > 0) deps.onWork();
  })();
  inboundInFlight.set(key, work);
  try {
    await work;
  } finally {
    inboundInFlight.delete(key);
  }
}
