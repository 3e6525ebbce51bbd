/**
 * The written tables that turn MM7 outcomes into our statuses and Telnyx codes. The README's MM7
 * section repeats them; change both together.
 */
import { ERRORS, type ErrorCode } from '../../errors/catalogue.ts';
import type { CarrierError, FinalDeliveryStatus } from '../types.ts';

export interface SubmitFailureClass {
  retryable: boolean;
  code: ErrorCode;
}

/**
 * MM7 request status codes (TS 23.140 §8.7.4, "Status code values") on a SubmitReq that failed.
 * 1000 Success and 1100 Partial success are not failures. A code not listed falls back to its
 * class: 2xxx client error → permanent 40008, 3xxx server error and 4xxx service error → retryable
 * 40006.
 */
export const MM7_SUBMIT_STATUS: Record<number, SubmitFailureClass & { text: string }> = {
  2000: { text: 'Client error', retryable: false, code: '40008' },
  2001: { text: 'Operation restricted', retryable: false, code: '40004' },
  2002: { text: 'Address Error', retryable: false, code: '40012' },
  2003: { text: 'Address Not Found', retryable: false, code: '40012' },
  2004: { text: 'Multimedia content refused', retryable: false, code: '40317' },
  2005: { text: 'Message ID Not found', retryable: false, code: '40008' },
  2006: { text: 'LinkedID not found', retryable: false, code: '40008' },
  2007: { text: 'Message format corrupt', retryable: false, code: '40009' },
  2008: { text: 'Application ID not found', retryable: false, code: '40008' },
  2009: { text: 'Reply Application ID not found', retryable: false, code: '40008' },
  3000: { text: 'Server Error', retryable: true, code: '40006' },
  3001: { text: 'Not Possible', retryable: true, code: '40006' },
  3002: { text: 'Message rejected', retryable: false, code: '40004' },
  3003: { text: 'Multiple addresses not supported', retryable: false, code: '40004' },
  3004: { text: 'Application Addressing not supported', retryable: false, code: '40004' },
  4000: { text: 'General service error', retryable: true, code: '40006' },
  4001: { text: 'Improper identification', retryable: false, code: '10009' },
  4002: { text: 'Unsupported version', retryable: false, code: '40008' },
  4003: { text: 'Unsupported Operation', retryable: false, code: '40008' },
  4004: { text: 'Validation error', retryable: false, code: '40009' },
  4005: { text: 'Service error', retryable: true, code: '40006' },
  4006: { text: 'Service unavailable', retryable: true, code: '40006' },
  4007: { text: 'Service denied', retryable: false, code: '40008' },
  4008: { text: 'Application denied', retryable: false, code: '40008' },
};

export function isMm7Success(statusCode: number): boolean {
  return statusCode === 1000 || statusCode === 1100;
}

export function classifyMm7Status(statusCode: number): SubmitFailureClass {
  const known = MM7_SUBMIT_STATUS[statusCode];
  if (known) return { retryable: known.retryable, code: known.code };
  if (statusCode >= 2000 && statusCode < 3000) return { retryable: false, code: '40008' };
  return { retryable: true, code: '40006' };
}

/**
 * HTTP answers without a readable MM7 status: 401/403 are credentials (permanent 10009); 408, 429
 * and 5xx are the MMSC being busy or down (retryable 40006); any other 4xx means the MMSC will not
 * take this request as sent (permanent 40008). Refused connections, resets and timeouts are
 * retryable 40006.
 */
export function classifyHttpStatus(httpStatus: number): SubmitFailureClass {
  if (httpStatus === 401 || httpStatus === 403) return { retryable: false, code: '10009' };
  if (httpStatus === 408 || httpStatus === 429 || httpStatus >= 500)
    return { retryable: true, code: '40006' };
  return { retryable: false, code: '40008' };
}

export const NETWORK_FAILURE: SubmitFailureClass = { retryable: true, code: '40006' };

export function carrierError(code: ErrorCode, detail: string): CarrierError {
  return { code, title: ERRORS[code].title, detail };
}

/**
 * MMStatus of a DeliveryReportReq (TS 23.140 §8.2.x `mmDeliveryStatusType`) → our final status.
 * Matched case-insensitively ('Unrecognized' too).
 *
 * - Retrieved → delivered.
 * - Forwarded (the recipient forwarded the MM without retrieving it) → delivered: the handset got
 *   it and its user acted on it.
 * - Rejected → delivery_failed 40004; Unrecognised → delivery_failed 40012; Expired →
 *   delivery_failed 40005; DeliveryConditionNotMet → delivery_failed 40008.
 * - Indeterminate (the MMSC cannot tell, and no further report follows) → delivery_unconfirmed.
 * - Deferred (retrieval put off by the recipient) and anything unknown → null: not final, the
 *   recipient stays `sent` and a later report decides.
 */
export const MM_STATUS_TABLE: Record<string, { status: FinalDeliveryStatus; code?: ErrorCode } | null> = {
  retrieved: { status: 'delivered' },
  forwarded: { status: 'delivered' },
  rejected: { status: 'delivery_failed', code: '40004' },
  unrecognised: { status: 'delivery_failed', code: '40012' },
  unrecognized: { status: 'delivery_failed', code: '40012' },
  expired: { status: 'delivery_failed', code: '40005' },
  deliveryconditionnotmet: { status: 'delivery_failed', code: '40008' },
  indeterminate: { status: 'delivery_unconfirmed' },
  deferred: null,
};

export function mapMmStatus(mmStatus: string): { status: FinalDeliveryStatus; error?: CarrierError } | null {
  const entry = MM_STATUS_TABLE[mmStatus.trim().toLowerCase()];
  if (!entry) return null;
  if (!entry.code) return { status: entry.status };
  return { status: entry.status, error: carrierError(entry.code, `MM7 MMStatus ${mmStatus.trim()}`) };
}
