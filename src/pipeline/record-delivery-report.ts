import type { DeliveryReport } from '../carriers/types.ts';
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

/**
 * The one durable entry for delivery reports from any connector (the simulator's ledger, an MM7
 * DeliveryReportReq, an upstream provider's callback): the report is kept as work and applied by
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
  const payload: StoredReport = {
    carrierMessageId: report.carrierMessageId,
    ...(report.phoneNumber ? { phoneNumber: report.phoneNumber } : {}),
    status: report.status,
    error: report.error ?? null,
    occurredAt: report.occurredAt.toISOString(),
  };
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
