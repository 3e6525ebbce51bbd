/**
 * The carrier simulator: the default connector. It answers like a carrier, taking a submission and
 * later reporting per recipient. Outcomes are scripted by the fictional North American 555-01XX
 * numbers, +1NPA5550100 … +1NPA5550199 for any area code NPA (2-9 then two digits); the same script
 * is exported as data, SIMULATOR_SCRIPTS.
 *
 * | Number        | At submit                          | Delivery report                                    |
 * |---------------|------------------------------------|----------------------------------------------------|
 * | +1NPA5550100  | accepted                           | delivered                                          |
 * | +1NPA5550101  | accepted                           | delivery_failed, 40008 Undeliverable               |
 * | +1NPA5550102  | sending_failed, 40001 Not routable | none                                               |
 * | +1NPA5550103  | accepted                           | delivery_failed, 40002 Blocked as spam - temporary |
 * | +1NPA5550104  | accepted                           | delivery_unconfirmed, no error                     |
 * | +1NPA5550105  | accepted                           | delivered after slowReportDelayMs                  |
 * | +1NPA5550106  | down (see below), then accepted    | delivered                                          |
 * | +1NPA5550107  | accepted                           | delivered; replies to the group after replyDelayMs |
 * | +1NPA5550108  | accepted                           | delivered; replies STOP to the sender              |
 * | +1NPA5550109  | accepted                           | delivered; replies to the sender with a picture    |
 * | anything else | accepted                           | delivered                                          |
 *
 * Reports come reportDelayMs (default 0) after the submit; the slow one slowReportDelayMs (default
 * 5000). 0102 is refused at submit, and only that recipient: the rest of the group goes on. 0106 fails
 * the WHOLE submission, retryable, with 40006 Recipient server unavailable while
 * `submission.attempt <= carrierDownAttempts` (default 2). delivery_unconfirmed has no error: Telnyx's
 * table has no code for "no receipt came" (40005 Message expired during transmission is a failure).
 *
 * The replying handsets (0107-0109) answer once their report is due: 0107 after a further
 * replyDelayMs (default 2000) sends a reply-all (to the sender, cc the group's other recipients), 0108
 * sends STOP, 0109 a picture; each goes through the inbound intake as a real inbound message would.
 *
 * A real carrier's book survives our crash, so nothing waits in memory here: each submission is
 * recorded (one write) in a durable SimulatorLedger before the answer, with the handsets' replies it
 * will send; its reports come with the answer (`SubmitResult.reports`), which the gateway records
 * durably in the transaction that records the answer.
 */
import { uuidV7 } from '../ids/uuid-v7.ts';
import { type ScriptedReplyKind, scriptFor } from './simulator-scripts.ts';
import type {
  CarrierConnector,
  CarrierSubmission,
  DeliveryReport,
  RecipientSubmitOutcome,
  ScheduledReport,
  SubmitResult,
} from './types.ts';

/** A scripted handset's answer to the message it was delivered, due at `at`. */
export interface ScheduledReply {
  kind: ScriptedReplyKind;
  /** The replying handset: the recipient. */
  from: string;
  /** The group message answered: the reply goes to its sender (cc its other recipients for `group`). */
  messageId: string;
  /** The recipient's carrier id: one reply per delivered copy. */
  carrierMessageId: string;
  at: Date;
}

export interface SubmitEntry {
  idempotencyKey: string;
  recipientId: string;
  phoneNumber: string;
  carrierMessageId: string;
}

export interface SimulatorLedger {
  /**
   * Records one submit call for these recipients (one write for the whole submission); returns, in
   * order, the carrier id to use for each (the same one for a repeated idempotencyKey+recipientId)
   * and how many submits of that recipient have been seen including this one.
   */
  recordSubmits(
    entries: SubmitEntry[],
    /** When the simulator received the submit: its book's time of it. */
    receivedAt: Date,
  ): Promise<Array<{ carrierMessageId: string; timesSeen: number }>>;
  /** Durably schedules the scripted handsets' replies (one per carrier id while pending). */
  scheduleReplies(replies: ScheduledReply[]): Promise<void>;
}

export interface SimulatorOptions {
  ledger: SimulatorLedger;
  /** Delay of every report but the slow one. */
  reportDelayMs?: number;
  slowReportDelayMs?: number;
  /** How many attempts a submission to +1NPA5550106 fails before the carrier is back. */
  carrierDownAttempts?: number;
  /** How long after its delivery the reply-all handset (+1NPA5550107) answers. */
  replyDelayMs?: number;
  now?: () => Date;
}

export const SIMULATOR_DEFAULTS = {
  reportDelayMs: 0,
  slowReportDelayMs: 5000,
  carrierDownAttempts: 2,
  replyDelayMs: 2000,
} as const;

export function createSimulator(options: SimulatorOptions): CarrierConnector {
  const {
    ledger,
    reportDelayMs = SIMULATOR_DEFAULTS.reportDelayMs,
    slowReportDelayMs = SIMULATOR_DEFAULTS.slowReportDelayMs,
    carrierDownAttempts = SIMULATOR_DEFAULTS.carrierDownAttempts,
    replyDelayMs = SIMULATOR_DEFAULTS.replyDelayMs,
    now = () => new Date(),
  } = options;
  const delays = { reportDelayMs, slowReportDelayMs };

  return {
    name: 'simulator',
    async submit(submission: CarrierSubmission): Promise<SubmitResult> {
      // One moment for the whole submission, taken as it arrives: its book's time, and the time its
      // reports count from (reports due together are one job, not one per millisecond).
      const receivedAt = now();
      const scripts = submission.recipients.map((r) => ({ ...r, script: scriptFor(r.phoneNumber) }));
      const down = scripts.find((r) => r.script.submit === 'carrier_down');
      if (down?.script.submit === 'carrier_down' && submission.attempt <= carrierDownAttempts) {
        return { ok: false, retryable: true, error: { ...down.script.submitError } };
      }

      const taken = scripts.filter((r) => r.script.submit !== 'refuse');
      const recorded = await ledger.recordSubmits(
        taken.map(({ recipientId, phoneNumber }) => ({
          idempotencyKey: submission.idempotencyKey,
          recipientId,
          phoneNumber,
          carrierMessageId: uuidV7(),
        })),
        receivedAt,
      );
      const carrierIds = new Map(taken.map((r, i) => [r.recipientId, recorded[i]!.carrierMessageId]));
      const outcomes: RecipientSubmitOutcome[] = [];
      // The reports come with the answer, on every accepted submit and not only the first: the
      // gateway records them with the answer, so an answer it never recorded (it died first) is
      // retried, and the repeat must produce them again. The gateway keeps one per carrier id.
      const reports: ScheduledReport[] = [];
      const replies: ScheduledReply[] = [];
      const submittedAt = receivedAt.getTime();
      for (const { recipientId, phoneNumber, script } of scripts) {
        if (script.submit === 'refuse') {
          outcomes.push({ recipientId, accepted: false, error: { ...script.submitError } });
          continue;
        }
        const carrierMessageId = carrierIds.get(recipientId)!;
        const at = new Date(submittedAt + delays[script.report.delay]);
        const report: DeliveryReport = { carrierMessageId, status: script.report.status, occurredAt: at };
        if (script.report.error) report.error = { ...script.report.error };
        reports.push({ report, at });
        if (script.reply) {
          replies.push({
            kind: script.reply,
            from: phoneNumber,
            messageId: submission.messageId,
            carrierMessageId,
            at: new Date(at.getTime() + (script.reply === 'group' ? replyDelayMs : 0)),
          });
        }
        outcomes.push({ recipientId, accepted: true, carrierMessageId });
      }
      if (replies.length > 0) await ledger.scheduleReplies(replies);
      return { ok: true, recipients: outcomes, reports };
    },
  };
}

export interface MemorySimulatorLedger extends SimulatorLedger {
  /** Every recorded submit of a recipient, with what it answered. */
  readonly submissions: Array<SubmitEntry & { timesSeen: number }>;
  readonly replies: ScheduledReply[];
}

/** A non-durable ledger: for unit tests, or anyone who accepts losing its book on restart. */
export function createMemorySimulatorLedger(): MemorySimulatorLedger {
  const byKey = new Map<string, { carrierMessageId: string; timesSeen: number }>();
  const submissions: MemorySimulatorLedger['submissions'] = [];
  const replies: ScheduledReply[] = [];
  return {
    submissions,
    replies,
    async scheduleReplies(list) {
      for (const reply of list) {
        if (!replies.some((r) => r.carrierMessageId === reply.carrierMessageId)) replies.push(reply);
      }
    },
    async recordSubmits(entries) {
      return entries.map((entry) => {
        const key = JSON.stringify([entry.idempotencyKey, entry.recipientId]);
        const seen = byKey.get(key);
        const carrierMessageId = seen?.carrierMessageId ?? entry.carrierMessageId;
        const timesSeen = (seen?.timesSeen ?? 0) + 1;
        byKey.set(key, { carrierMessageId, timesSeen });
        submissions.push({ ...entry, carrierMessageId, timesSeen });
        return { carrierMessageId, timesSeen };
      });
    },
  };
}
