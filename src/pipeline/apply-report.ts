import type { JobHandler } from '../queue/job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from '../queue/retry-schedule.ts';
import type { JobRecord, MessageRecord, RecipientRecord } from '../store/records.ts';
import type { Repos, Store } from '../store/store.ts';
import { emitRecipientEvent } from './emit-event.ts';
import { finalizeRecipients, GAVE_UP } from './recipient-transitions.ts';
import { CARRIER_REPORT_QUEUE, type StoredReport } from './record-delivery-report.ts';

/**
 * `carrier.report`: a report from the carrier moves its recipient from `sent` to its final status
 * (or, from an upstream provider, from `sending` to `sent` or `sending_failed`). A report can arrive
 * before the submit's answer is recorded (carriers race like that), so an unknown carrier id is
 * retried for a while; a report that never matches is given up and kept, with its error, for the
 * operator.
 */
export function applyReportHandler(deps: { store: Store; unmatchedRetry: RetrySchedule }): JobHandler {
  const { store } = deps;
  return {
    queue: CARRIER_REPORT_QUEUE,
    async run(control) {
      const report = control.job.payload as unknown as StoredReport;
      const recipient = await store.messages.findRecipientByCarrierId(
        report.carrierMessageId,
        report.phoneNumber,
      );
      if (!recipient) {
        const unmatched = `no recipient with carrier id ${report.carrierMessageId}`;
        const delay = nextRetryDelay(deps.unmatchedRetry, control.job.retries + 1);
        if (delay === null) return control.fail(unmatched);
        return control.retryAt(Date.now() + delay, `${unmatched} yet`);
      }
      const found = await store.messages.get(recipient.message_id);
      if (!found) return control.complete();
      return control.complete((tx) => applyReport(tx, found.message, recipient, report));
    },
    // A report that keeps crashing: its recipient ends `delivery_unconfirmed`, with the error.
    async giveUp(job: JobRecord, tx: Repos) {
      const report = job.payload as unknown as StoredReport;
      const recipient = await tx.messages.findRecipientByCarrierId(
        report.carrierMessageId,
        report.phoneNumber,
      );
      const found = recipient ? await tx.messages.get(recipient.message_id) : undefined;
      if (!recipient || !found) return;
      await finalizeRecipients(
        tx,
        found.message,
        [recipient],
        'delivery_unconfirmed',
        [GAVE_UP],
        ['sent'],
        new Date(),
      );
    },
  };
}

async function applyReport(
  tx: Repos,
  message: MessageRecord,
  recipient: RecipientRecord,
  report: StoredReport,
): Promise<void> {
  const at = new Date(report.occurredAt);
  const errors = report.error ? [report.error] : [];
  if (report.status === 'sending_failed' && recipient.status !== 'sent') {
    await finalizeRecipients(tx, message, [recipient], 'sending_failed', errors, ['sending'], at);
    return;
  }
  let current = recipient;
  // An upstream's final report can overtake its `sent` one: the recipient is sent first, so its
  // webhooks keep their order (message.sent before message.finalized).
  if (recipient.status === 'sending') {
    const stamp = at.toISOString();
    const change = { status: 'sent' as const, errors: [], sent_at: stamp };
    if (await tx.messages.transitionRecipient(recipient.id, ['sending'], change, stamp)) {
      current = { ...recipient, ...change, updated_at: stamp };
      await emitRecipientEvent(tx, message, current, 'message.sent', at);
    }
  }
  if (report.status === 'sent') return;
  // The provider said it was sent, then that sending failed: it failed on its way to the handset.
  const status = report.status === 'sending_failed' ? 'delivery_failed' : report.status;
  await finalizeRecipients(tx, message, [current], status, errors, ['sent'], at);
}
