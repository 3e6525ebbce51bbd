import { createHash } from 'node:crypto';
import type { DeliveryReport, ScheduledReport } from '../carriers/types.ts';
import type { MessageWithRecipients } from '../store/sql/messages.ts';
import type { Repos } from '../store/store.ts';

export const CARRIER_REPORT_QUEUE = 'carrier.report';

/** A delivery report as stored in a queue job's payload. */
export interface StoredReport {
  carrierMessageId: string;
  phoneNumber?: string;
  status: DeliveryReport['status'];
  error: DeliveryReport['error'] | null;
  occurredAt: string;
}

/** A `carrier.report` job's payload: one report (recordDeliveryReport), or several applied together. */
export type ReportJobPayload = StoredReport | { reports: StoredReport[] };

export const reportsOf = (payload: Record<string, unknown>): StoredReport[] =>
  Array.isArray(payload.reports) ? (payload.reports as StoredReport[]) : [payload as unknown as StoredReport];

const stored = (report: DeliveryReport): StoredReport => ({
  carrierMessageId: report.carrierMessageId,
  ...(report.phoneNumber ? { phoneNumber: report.phoneNumber } : {}),
  status: report.status,
  error: report.error ?? null,
  occurredAt: report.occurredAt.toISOString(),
});

/**
 * The one durable entry for delivery reports that arrive on their own (an MM7 DeliveryReportReq, an
 * upstream provider's callback; reports given with a submit answer go through
 * recordScheduledReports): the report is kept as work and applied by
 * the pipeline, at `at` (default now). A report whose recipient is not known yet (it raced its
 * submit's answer) is retried against later submits. Call it inside the transaction that must
 * commit before the carrier is told "received". The same report twice is stored once.
 */
export async function recordDeliveryReport(
  repos: Pick<Repos, 'jobs'>,
  report: DeliveryReport,
  now: number,
  at: number = now,
): Promise<void> {
  const payload = stored(report);
  const who = report.phoneNumber
    ? `${report.carrierMessageId}:${report.phoneNumber}`
    : report.carrierMessageId;
  // Due `at - now` from now on the store's clock (the database's on PostgreSQL).
  await repos.jobs.enqueue({
    queue: CARRIER_REPORT_QUEUE,
    payload: { ...payload },
    delayMs: Math.max(0, at - now),
    // A `sent` report and the final one for the same recipient are two reports, not duplicates.
    uniqueKey: report.status === 'sent' ? `report:${who}:sent` : `report:${who}`,
  });
}

/**
 * The reports a connector gave with its submit answer, recorded in the transaction that records the
 * answer: one job per due time, whose handler applies all of its reports in one transaction.
 */
export async function recordScheduledReports(
  repos: Pick<Repos, 'jobs'>,
  scheduled: readonly ScheduledReport[],
  now: number,
  /** The message and its recipients as the answer's transaction left them, when known exactly. */
  fresh?: MessageWithRecipients,
): Promise<void> {
  const byDue = new Map<number, StoredReport[]>();
  for (const { report, at } of scheduled) {
    const due = at.getTime();
    const group = byDue.get(due) ?? [];
    group.push(stored(report));
    byDue.set(due, group);
  }
  for (const [due, reports] of byDue) {
    const who = reports.map((r) => `${r.carrierMessageId}:${r.phoneNumber ?? ''}:${r.status}`).join(',');
    await repos.jobs.enqueue({
      queue: CARRIER_REPORT_QUEUE,
      payload: { reports },
      delayMs: Math.max(0, due - now),
      uniqueKey: `reports:${createHash('sha256').update(who).digest('base64url')}`,
      ...(fresh ? { fresh } : {}),
    });
  }
}
