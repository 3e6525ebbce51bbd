import type { JobHandler } from '../queue/job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from '../queue/retry-schedule.ts';
import type { JobRecord } from '../store/records.ts';
import type { Repos, Store } from '../store/store.ts';
import { finalizeRecipients, GAVE_UP } from './recipient-transitions.ts';
import { CARRIER_REPORT_QUEUE, type StoredReport } from './record-delivery-report.ts';

/**
 * `carrier.report`: a delivery report from the carrier moves its recipient from `sent` to its final
 * status. A report can arrive before the submit's answer is recorded (carriers race like that), so an
 * unknown carrier id is retried for a while; a report that never matches is given up and kept, with
 * its error, for the operator.
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
      return control.complete(async (tx) => {
        const errors = report.error ? [report.error] : [];
        await finalizeRecipients(
          tx,
          found.message,
          [recipient],
          report.status,
          errors,
          ['sent'],
          new Date(report.occurredAt),
        );
      });
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
