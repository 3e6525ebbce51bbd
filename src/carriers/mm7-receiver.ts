import { uuidV7 } from '../ids/uuid-v7.ts';
import type { ReceivedMessage, ReceiveOutcome } from '../inbound/receive-message.ts';
import { recordDeliveryReport } from '../pipeline/record-delivery-report.ts';
import type { ConnectorRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { Mm7ConnectorSettings } from './connector-settings.ts';
import {
  type Mm7Address,
  Mm7Fault,
  type Mm7Inbound,
  mapMmStatus,
  mm7FaultResponse,
  mm7Response,
  normalizeMm7Number,
  parseMm7Request,
} from './mm7/index.ts';

export interface Mm7ReceiverDeps {
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

export interface Mm7Answer {
  httpStatus: number;
  contentType: string;
  body: string;
}

/** SMIL says how to lay the parts out; the text parts become `text`. Neither is media. */
const NOT_MEDIA = new Set(['application/smil', 'text/plain']);

/**
 * What an MMSC posts to `/mm7/<connector>`, already authenticated: a DeliveryReportReq is committed
 * through the one durable entry for reports before it is answered 1000; a DeliverReq goes through the
 * inbound intake, then is answered; a ReadReplyReq is kept. Anything else, or anything unreadable, is
 * a SOAP Fault (RSErrorRsp) and nothing is stored. A failure on our side is a Server fault (3000) so
 * the MMSC sends it again.
 */
export async function handleMm7Request(
  deps: Mm7ReceiverDeps,
  connector: ConnectorRecord,
  body: Buffer,
  contentType: string | undefined,
): Promise<Mm7Answer> {
  const settings = connector.settings as Mm7ConnectorSettings;
  let request: Mm7Inbound;
  try {
    request = parseMm7Request(body, contentType);
  } catch (err) {
    const fault = err instanceof Mm7Fault ? err : new Mm7Fault(4004, 'Validation error: unreadable request');
    deps.log.warn(
      { connector: connector.name, status: fault.statusCode, reason: fault.message },
      'MM7 request refused',
    );
    return asAnswer(mm7FaultResponse(fault));
  }
  if (request.kind === 'unsupported') {
    const fault = new Mm7Fault(4003, `Unsupported operation ${request.element}`);
    deps.log.warn({ connector: connector.name, element: request.element }, 'MM7 request refused');
    return asAnswer(mm7FaultResponse(fault, request.transactionId, request.schema ?? request.mm7Version));
  }
  const version = request.schema ?? request.mm7Version;
  const now = deps.now?.() ?? new Date();
  const number = (a: Mm7Address) => normalizeMm7Number(a, settings.defaultCountry ?? 'US') ?? a.value;

  try {
    switch (request.kind) {
      case 'DeliveryReportReq': {
        const phoneNumber = normalizeMm7Number(request.recipient, settings.defaultCountry ?? 'US');
        if (!phoneNumber) {
          return asAnswer(
            mm7FaultResponse(
              new Mm7Fault(2002, 'Address Error: the Recipient is not a phone number'),
              request.transactionId,
              version,
            ),
          );
        }
        const outcome = mapMmStatus(request.mmStatus);
        // Not final (Deferred, unknown): acknowledged, the recipient stays `sent` until a final one.
        if (outcome) {
          await deps.store.transaction((tx) =>
            recordDeliveryReport(
              tx,
              {
                carrierMessageId: request.messageId,
                phoneNumber,
                status: outcome.status,
                ...(outcome.error ? { error: outcome.error } : {}),
                occurredAt: request.date ?? now,
              },
              now.getTime(),
            ),
          );
          deps.onWork();
        }
        return asAnswer(mm7Response('DeliveryReportRsp', request.transactionId, version));
      }
      case 'DeliverReq': {
        const outcome = await deps.receive({
          connector: connector.name,
          carrierMessageId: request.linkedId ?? null,
          from: request.sender ? number(request.sender) : 'unknown',
          to: request.to.map(number),
          cc: request.cc.map(number),
          bcc: request.bcc.map(number),
          subject: request.subject ?? null,
          text: request.text ?? null,
          media: request.parts
            .filter((p) => !NOT_MEDIA.has(p.contentType.toLowerCase()))
            .map((p) => ({ contentType: p.contentType, bytes: p.bytes })),
          details: { transactionId: request.transactionId, mm7Version: request.mm7Version },
        });
        if (outcome.messageIds.length === 0) {
          deps.log.warn(
            { connector: connector.name, receipt: outcome.receiptId },
            'MM7 DeliverReq to no registered number: kept as an unrouted receipt',
          );
        }
        if (outcome.webhooks > 0) deps.onWork();
        return asAnswer(mm7Response('DeliverRsp', request.transactionId, version));
      }
      case 'ReadReplyReq': {
        const phone = request.sender ? number(request.sender) : undefined;
        const matched = await deps.store.messages.findRecipientByCarrierId(request.messageId, phone);
        await deps.store.inboundReceipts.insert({
          id: uuidV7(now.getTime()),
          connector: connector.name,
          kind: 'read_reply',
          carrier_message_id: request.messageId,
          payload: {
            from: phone ?? null,
            to: request.recipient ? number(request.recipient) : null,
            mmStatus: request.mmStatus,
            date: request.date?.toISOString() ?? null,
            transactionId: request.transactionId,
          },
          message_ids: matched ? [matched.message_id] : [],
          routed: matched !== undefined,
          received_at: now.toISOString(),
        });
        return asAnswer(mm7Response('ReadReplyRsp', request.transactionId, version));
      }
    }
  } catch (err) {
    deps.log.error({ err, connector: connector.name, kind: request.kind }, 'MM7 request failed');
    return asAnswer(mm7FaultResponse(new Mm7Fault(3000, 'Server Error'), request.transactionId, version));
  }
}

function asAnswer(a: { httpStatus?: number; contentType: string; body: string }): Mm7Answer {
  return { httpStatus: a.httpStatus ?? 200, contentType: a.contentType, body: a.body };
}
