import { batchedRead } from '../queue/batched-read.ts';
import type { JobHandler } from '../queue/job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from '../queue/retry-schedule.ts';
import type { JobRecord, MessageRecord, RecipientRecord } from '../store/records.ts';
import type { MessageWithRecipients } from '../store/sql/messages.ts';
import type { Repos, Store } from '../store/store.ts';
import { emitRecipientEvents } from './emit-event.ts';
import { finalizeRecipients, GAVE_UP } from './recipient-transitions.ts';
import { CARRIER_REPORT_QUEUE, reportsOf, type StoredReport } from './record-delivery-report.ts';

interface Matched {
  report: StoredReport;
  recipient: RecipientRecord;
}

/**
 * `carrier.report`: reports from the carrier move their recipients from `sent` to a final status
 * (or, from an upstream provider, from `sending` to `sent` or `sending_failed`). A job holds one
 * report (recordDeliveryReport) or all the reports a submit answer gave for one due time; they are
 * read with one query and applied in one transaction. A report can arrive before the submit's answer
 * is recorded (carriers race like that), so a job with an unknown carrier id applies what it can and
 * is retried for a while; a report that never matches is given up and kept, with its error, for the
 * operator.
 */
export function applyReportHandler(deps: { store: Store; unmatchedRetry: RetrySchedule }): JobHandler {
  const { store } = deps;
  // The report jobs started together read their recipients, then their messages, with one query each.
  const readRecipients = batchedRead(async (carrierIds) =>
    groupBy(await store.messages.recipientsWithCarrierIds(carrierIds), (r) => r.carrier_message_id!),
  );
  const readMessage = batchedRead((ids) => store.messages.getMessages(ids));
  return {
    queue: CARRIER_REPORT_QUEUE,
    async run(control) {
      const reports = reportsOf(control.job.payload);
      // Inserted by the submit answer that gave these reports, on this node: its rows as written.
      const fresh = control.job.fresh as MessageWithRecipients | undefined;
      const candidates = await Promise.all(
        reports.map((r) => {
          const known = fresh?.recipients.filter((c) => c.carrier_message_id === r.carrierMessageId);
          return known && known.length > 0 ? known : readRecipients(r.carrierMessageId);
        }),
      );
      const matched: Matched[] = [];
      const unknown: StoredReport[] = [];
      reports.forEach((report, i) => {
        const recipient = candidates[i]?.find(
          (r) => report.phoneNumber === undefined || r.phone_number === report.phoneNumber,
        );
        if (recipient) matched.push({ report, recipient });
        else unknown.push(report);
      });
      const messages = new Map<string, MessageRecord>();
      for (const { recipient } of matched) {
        const message =
          messages.get(recipient.message_id) ??
          (fresh?.message.id === recipient.message_id
            ? fresh.message
            : await readMessage(recipient.message_id));
        if (message) messages.set(recipient.message_id, message);
      }
      const apply = (tx: Repos) => applyReports(tx, matched, messages);
      if (unknown.length > 0) {
        const unmatched = `no recipient with carrier id ${unknown.map((r) => r.carrierMessageId).join(', ')}`;
        const delay = nextRetryDelay(deps.unmatchedRetry, control.job.retries + 1);
        // The matched ones are applied now; applying them again on the retry changes nothing.
        if (delay === null) return control.fail(unmatched, apply);
        return control.retryAt(Date.now() + delay, `${unmatched} yet`, apply);
      }
      return control.complete(apply);
    },
    // Reports that keep crashing: their recipients end `delivery_unconfirmed`, with the error.
    async giveUp(job: JobRecord, tx: Repos) {
      const found = (await tx.messages.findRecipientsByCarrierIds(reportsOf(job.payload))).filter(
        (r): r is RecipientRecord => r !== undefined,
      );
      const messages = await tx.messages.getMessages(found.map((r) => r.message_id));
      for (const [messageId, recipients] of groupBy(found, (r) => r.message_id)) {
        const message = messages.get(messageId);
        if (!message) continue;
        await finalizeRecipients(
          tx,
          message,
          recipients,
          'delivery_unconfirmed',
          [GAVE_UP],
          ['sent'],
          new Date(),
        );
      }
    },
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k) ?? [];
    group.push(item);
    groups.set(k, group);
  }
  return groups;
}

/** Reports of one message that say the same thing at the same moment are applied with one statement. */
async function applyReports(
  tx: Repos,
  matched: readonly Matched[],
  messages: ReadonlyMap<string, MessageRecord>,
): Promise<void> {
  const same = (m: Matched) =>
    JSON.stringify([m.recipient.message_id, m.report.status, m.report.error, m.report.occurredAt]);
  for (const group of groupBy(matched, same).values()) {
    const { report, recipient } = group[0]!;
    const message = messages.get(recipient.message_id);
    if (message)
      await applyReport(
        tx,
        message,
        group.map((m) => m.recipient),
        report,
      );
  }
}

async function applyReport(
  tx: Repos,
  message: MessageRecord,
  recipients: RecipientRecord[],
  report: StoredReport,
): Promise<void> {
  const at = new Date(report.occurredAt);
  const errors = report.error ? [report.error] : [];
  if (report.status === 'sending_failed') {
    const sent = recipients.filter((r) => r.status === 'sent');
    const notSent = recipients.filter((r) => r.status !== 'sent');
    await finalizeRecipients(tx, message, notSent, 'sending_failed', errors, ['sending'], at);
    // The provider said it was sent, then that sending failed: it failed on its way to the handset.
    await finalizeRecipients(tx, message, sent, 'delivery_failed', errors, ['sent'], at);
    return;
  }
  let current = recipients;
  // An upstream's final report can overtake its `sent` one: the recipient is sent first, so its
  // webhooks keep their order (message.sent before message.finalized).
  const sending = recipients.filter((r) => r.status === 'sending');
  if (sending.length > 0) {
    const stamp = at.toISOString();
    const change = { status: 'sent' as const, errors: [], sent_at: stamp };
    const moved = await tx.messages.transitionRecipients(sending, ['sending'], change, stamp);
    const nowSent = sending
      .filter((r) => moved.has(r.id))
      .map((r) => ({ ...r, ...change, updated_at: stamp }));
    await emitRecipientEvents(tx, message, nowSent, 'message.sent', at);
    current = recipients.map((r) => nowSent.find((s) => s.id === r.id) ?? r);
  }
  if (report.status === 'sent') return;
  await finalizeRecipients(tx, message, current, report.status, errors, ['sent'], at);
}
