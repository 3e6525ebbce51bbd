/**
 * What a Telnyx-compatible upstream posts to `/connectors/<name>/webhooks`: verified (Ed25519 over
 * `timestamp|body`, ±300 s) before anything is read; then applied, with its event id recorded in the
 * same transaction, so a replay (the same id again) is refused and changes nothing. Delivery updates
 * go through the one durable entry for reports; received messages through the inbound intake.
 */
import { ERRORS, type ErrorCode } from '../../errors/catalogue.ts';
import type { ReceivedMessage, ReceiveOutcome } from '../../inbound/receive-message.ts';
import { recordDeliveryReport } from '../../pipeline/record-delivery-report.ts';
import type { ConnectorRecord } from '../../store/records.ts';
import type { Repos, Store } from '../../store/store.ts';
import type { TelnyxConnectorSettings } from '../connector-settings.ts';
import { InboundMediaError } from './inbound-media.ts';
import { verifyTelnyxSignature } from './verify-signature.ts';
import { readUpstreamEvent, type UpstreamInbound } from './webhook-event.ts';

export interface UpstreamWebhookDeps {
  store: Store;
  /** The inbound intake; `inTransaction` runs inside its transaction. */
  receive(message: ReceivedMessage, inTransaction?: (tx: Repos) => Promise<void>): Promise<ReceiveOutcome>;
  fetchMedia(media: UpstreamInbound['media']): Promise<Array<{ contentType: string; bytes: Buffer }>>;
  /** Work was committed: wake the workers. */
  onWork(): void;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  now?: () => Date;
}

export interface UpstreamWebhookRequest {
  rawBody: string;
  signature: string | undefined;
  timestamp: string | undefined;
}

export interface UpstreamWebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

class ReplayedEvent extends Error {}

const refusal = (status: number, code: ErrorCode, detail: string): UpstreamWebhookAnswer => ({
  status,
  body: { errors: [{ code, title: ERRORS[code].title, detail }] },
});

export async function handleUpstreamWebhook(
  deps: UpstreamWebhookDeps,
  connector: ConnectorRecord | undefined,
  request: UpstreamWebhookRequest,
): Promise<UpstreamWebhookAnswer> {
  if (connector?.type !== 'telnyx') {
    return refusal(404, '10005', 'No Telnyx-compatible connector at this address.');
  }
  const settings = connector.settings as TelnyxConnectorSettings;
  const now = deps.now?.() ?? new Date();
  const check = verifyTelnyxSignature({
    publicKey: settings.publicKey,
    signature: request.signature,
    timestamp: request.timestamp,
    rawBody: request.rawBody,
    nowMs: now.getTime(),
  });
  if (!check.ok) {
    deps.log.warn({ connector: connector.name, reason: check.reason }, 'upstream webhook refused');
    return refusal(401, '10009', `Webhook signature refused: ${check.reason}.`);
  }
  const read = readUpstreamEvent(request.rawBody, now);
  if (!read.ok) {
    deps.log.warn({ connector: connector.name, problem: read.problem }, 'upstream webhook unreadable');
    return refusal(400, '10015', read.problem);
  }
  const event = read.event;
  const claim = (tx: Repos) =>
    tx.upstreamWebhookEvents.claim({
      connector: connector.name,
      eventId: event.eventId,
      eventType: event.eventType,
      receivedAt: now.toISOString(),
    });
  const replayed = () => {
    deps.log.warn({ connector: connector.name, eventId: event.eventId }, 'upstream webhook replayed');
    return refusal(409, '10015', `Event ${event.eventId} was already applied.`);
  };

  switch (event.kind) {
    case 'ignored':
      return { status: 200, body: { ignored: event.eventType } };
    case 'reports': {
      const applied = await deps.store.transaction(async (tx) => {
        if (!(await claim(tx))) return false;
        for (const report of event.reports) await recordDeliveryReport(tx, report, now.getTime());
        return true;
      });
      if (!applied) return replayed();
      deps.onWork();
      return { status: 200, body: { applied: event.reports.length } };
    }
    case 'received': {
      // A plain replay is refused before its media are fetched again; the claim below still decides.
      if (await deps.store.upstreamWebhookEvents.has(connector.name, event.eventId)) return replayed();
      let media: Array<{ contentType: string; bytes: Buffer }>;
      try {
        media = await deps.fetchMedia(event.message.media);
      } catch (err) {
        if (!(err instanceof InboundMediaError)) throw err;
        deps.log.warn(
          { connector: connector.name, reason: err.message },
          'upstream inbound media not fetched',
        );
        // Not the sender's fault: the upstream is asked to send it again later.
        return refusal(503, '40006', 'The message media could not be fetched; send it again later.');
      }
      try {
        const m = event.message;
        const outcome = await deps.receive(
          {
            connector: connector.name,
            carrierMessageId: m.upstreamId,
            from: m.from,
            to: m.to,
            cc: m.cc,
            bcc: [],
            subject: m.subject,
            text: m.text,
            media,
            details: { upstreamEventId: event.eventId },
          },
          async (tx) => {
            if (!(await claim(tx))) throw new ReplayedEvent();
          },
        );
        if (outcome.webhooks > 0) deps.onWork();
        return { status: 200, body: { received: outcome.messageIds.length } };
      } catch (err) {
        if (err instanceof ReplayedEvent) return replayed();
        throw err;
      }
    }
  }
}
