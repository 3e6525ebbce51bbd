/**
 * The contract every carrier connector implements (simulator, MM7, upstream Telnyx-compatible API).
 * A connector submits one group message to the carrier and says, per recipient, whether the carrier
 * took it. Delivery reports arrive later through `DeliveryReportSink`.
 */

export interface CarrierMedia {
  url: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Reads the stored bytes (content-addressed); connectors that embed media call it. */
  read(): Promise<Buffer>;
}

export interface CarrierSubmission {
  /** Stable across retries of the same submit: connectors that can deduplicate use it. */
  idempotencyKey: string;
  messageId: string;
  from: string;
  recipients: Array<{ recipientId: string; phoneNumber: string }>;
  text: string | null;
  subject: string | null;
  media: CarrierMedia[];
  /** 1 on the first try, then 2, 3, … */
  attempt: number;
  /** Aborted when the gateway stops waiting (job timeout, shutdown): give up the request. */
  signal?: AbortSignal;
}

/** A Telnyx error as it appears in a message's `errors` array. */
export interface CarrierError {
  code: string;
  title: string;
  detail?: string;
}

export type RecipientSubmitOutcome =
  | {
      recipientId: string;
      accepted: true;
      carrierMessageId: string;
      /**
       * An upstream provider queued it but has not sent it yet: the recipient stays `sending` (with
       * its carrier id) until a `sent` report, or a `sending_failed` one, says what became of it.
       */
      awaitingSent?: boolean;
    }
  | { recipientId: string; accepted: false; error: CarrierError };

export type SubmitResult =
  | {
      ok: true;
      recipients: RecipientSubmitOutcome[];
      /**
       * Reports the carrier already knows with its answer (the simulator scripts them at submit):
       * the gateway records them durably with the answer, in the same transaction, as one unit of
       * work per due time. Lost with an answer that was never recorded, like the answer itself: the
       * retried submit gives them again.
       */
      reports?: ScheduledReport[];
    }
  /** The whole submit failed. `retryable` says whether trying again later may succeed. */
  | { ok: false; retryable: boolean; error: CarrierError; retryAfterMs?: number };

export type FinalDeliveryStatus = 'delivered' | 'delivery_failed' | 'delivery_unconfirmed';

/**
 * What a report can say: a final delivery status; `sent` (an upstream provider handed it to the
 * carrier, for a recipient accepted with `awaitingSent`); or `sending_failed` (the upstream could not
 * send it after all).
 */
export type ReportedStatus = FinalDeliveryStatus | 'sent' | 'sending_failed';

export interface DeliveryReport {
  carrierMessageId: string;
  /**
   * The recipient's E.164 number, for carriers whose message id is shared by every recipient of one
   * submission (MM7's MessageID): the report then matches the recipient by id and number.
   */
  phoneNumber?: string;
  status: ReportedStatus;
  error?: CarrierError;
  occurredAt: Date;
}

/** A delivery report and when the carrier hands it over. */
export interface ScheduledReport {
  report: DeliveryReport;
  at: Date;
}

export interface DeliveryReportSink {
  /** Must resolve only once the report is durably recorded. */
  report(report: DeliveryReport): Promise<void>;
}

export interface CarrierConnector {
  readonly name: string;
  /** The `carrier` name shown on records when the lookup table has none. */
  submit(submission: CarrierSubmission): Promise<SubmitResult>;
  close?(): Promise<void>;
}
