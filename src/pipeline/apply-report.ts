import type { JobHandler } from '../queue/job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from '../queue/retry-schedule.ts';
import type { Store } from '../store/store.ts';
import { finalizeRecipients } from './recipient-transitions.ts';
import { CARRIER_REPORT_QUEUE, type StoredReport } from './record-delivery-report.ts';

/**
 * `carrier.report`: a delivery report from the carrier moves its recipient from `sent` to its final
 * status. A report can arrive before the submit's answer is recorded (carriers race like that), so an
 * unknown carrier id is retried for a while before the report is dropped.
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
        const delay = nextRetryDelay(deps.unmatchedRetry, control.job.attempts);
        if (delay === null) return control.complete();
        return control.retryAt(
          Date.now() + delay,
          `no recipient with carrier id ${report.carrierMessageId} yet`,
        );
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
  };
}
