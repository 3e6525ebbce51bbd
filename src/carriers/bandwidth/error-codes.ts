/**
 * The written tables that turn Bandwidth's answers into our statuses and Telnyx codes. The README's
 * Bandwidth section repeats them; change both together.
 */
import { ERRORS, type ErrorCode } from '../../errors/catalogue.ts';
import type { CarrierError, ReportedStatus } from '../types.ts';

type FailedStatus = Extract<ReportedStatus, 'sending_failed' | 'delivery_failed' | 'delivery_unconfirmed'>;

/**
 * `errorCode` of a `message-failed` callback (Bandwidth's messaging error table, all 76 rows) → our
 * status and Telnyx code. 41xx/43xx/44xx (Bandwidth refused it) and 51xx/52xx/55xx (Bandwidth
 * failed) never reached a carrier: `sending_failed`. 47xx (the carrier refused it) and 56xx (the
 * carrier failed): `delivery_failed`. 9902 (no delivery receipt came): `delivery_unconfirmed`.
 * A code not listed falls back to its class: see `classOf`.
 */
export const BANDWIDTH_ERROR_CODES: Record<number, { name: string; status: FailedStatus; code: ErrorCode }> =
  {
    4001: { name: 'service-not-allowed', status: 'sending_failed', code: '40008' },
    4301: { name: 'malformed-invalid-encoding', status: 'sending_failed', code: '40009' },
    4302: { name: 'malformed-invalid-from-number', status: 'sending_failed', code: '40305' },
    4303: { name: 'malformed-invalid-to-number', status: 'sending_failed', code: '40310' },
    4350: { name: 'malformed-for-destination', status: 'sending_failed', code: '40009' },
    4360: { name: 'message-not-sent-expiration-date-passed', status: 'sending_failed', code: '40005' },
    4401: { name: 'rejected-routing-error', status: 'sending_failed', code: '40001' },
    4403: { name: 'rejected-forbidden-from-number', status: 'sending_failed', code: '40305' },
    4404: { name: 'rejected-forbidden-to-number', status: 'sending_failed', code: '40310' },
    4405: { name: 'rejected-unallocated-from-number', status: 'sending_failed', code: '40305' },
    4406: { name: 'rejected-unallocated-to-number', status: 'sending_failed', code: '40012' },
    4407: { name: 'rejected-account-not-defined-from-number', status: 'sending_failed', code: '40305' },
    4408: { name: 'rejected-account-not-defined-to-number', status: 'sending_failed', code: '40310' },
    4409: { name: 'rejected-invalid-from-profile', status: 'sending_failed', code: '40305' },
    4410: { name: 'media-unavailable', status: 'sending_failed', code: '40317' },
    4411: { name: 'rejected-message-size-limit-exceeded', status: 'sending_failed', code: '40302' },
    4412: { name: 'media-content-invalid', status: 'sending_failed', code: '40317' },
    4420: { name: 'rejected-carrier-does-not-exist', status: 'sending_failed', code: '40001' },
    4421: { name: 'rejected-forbidden-no-destination', status: 'sending_failed', code: '40001' },
    4431: { name: 'rejected-forbidden-shortcode', status: 'sending_failed', code: '40310' },
    4432: { name: 'rejected-forbidden-country', status: 'sending_failed', code: '40309' },
    4433: { name: 'rejected-forbidden-tollfree', status: 'sending_failed', code: '40305' },
    4434: { name: 'rejected-forbidden-tollfree-for-recipient', status: 'sending_failed', code: '40310' },
    4435: { name: 'forbidden-too-many-recipients', status: 'sending_failed', code: '40009' },
    4451: { name: 'rejected-wrong-user-id', status: 'sending_failed', code: '40008' },
    4452: { name: 'rejected-wrong-application-id', status: 'sending_failed', code: '40008' },
    4470: { name: 'rejected-spam-detected', status: 'sending_failed', code: '40002' },
    4481: { name: 'rejected-from-number-in-blacklist', status: 'sending_failed', code: '40305' },
    4482: { name: 'rejected-to-number-in-blacklist', status: 'sending_failed', code: '40310' },
    4492: { name: 'reject-emergency', status: 'sending_failed', code: '40310' },
    4493: { name: 'rejected-unauthorized', status: 'sending_failed', code: '10009' },
    4700: { name: 'invalid-service-type', status: 'delivery_failed', code: '40004' },
    4701: { name: 'destination-service-unavailable', status: 'delivery_failed', code: '40008' },
    4702: { name: 'destination-subscriber-unavailable', status: 'delivery_failed', code: '40008' },
    4711: { name: 'rejected-message-size-limit-exceeded', status: 'delivery_failed', code: '40302' },
    4712: { name: 'media-content-invalid', status: 'delivery_failed', code: '40317' },
    4720: { name: 'invalid-destination-address', status: 'delivery_failed', code: '40012' },
    4721: { name: 'destination-tn-deactivated', status: 'delivery_failed', code: '40012' },
    4730: { name: 'no-route-to-destination-carrier', status: 'delivery_failed', code: '40001' },
    4740: { name: 'invalid-source-address-address', status: 'delivery_failed', code: '40305' },
    4750: { name: 'destination-rejected-message', status: 'delivery_failed', code: '40004' },
    4751: { name: 'destination-rejected-message-size-invalid', status: 'delivery_failed', code: '40009' },
    4752: { name: 'destination-rejected-malformed', status: 'delivery_failed', code: '40009' },
    4753: { name: 'destination-rejected-handset', status: 'delivery_failed', code: '40004' },
    4770: { name: 'destination-spam-detected', status: 'delivery_failed', code: '40002' },
    4771: { name: 'rejected-shortened-url', status: 'delivery_failed', code: '40002' },
    4772: { name: 'rejected-tn-blocked', status: 'delivery_failed', code: '40004' },
    4773: { name: 'inactive-campaign', status: 'delivery_failed', code: '40004' },
    4774: { name: 'provisioning-issue', status: 'delivery_failed', code: '40001' },
    4775: { name: 'destination-rejected-due-to-user-opt-out', status: 'delivery_failed', code: '40300' },
    4780: { name: 'volume-violation-tmo', status: 'delivery_failed', code: '40004' },
    4781: { name: 'volume-violation-att', status: 'delivery_failed', code: '40004' },
    4785: { name: 'volumetric-violation', status: 'delivery_failed', code: '40004' },
    4790: { name: 'destination-rejected-sc-not-allowed', status: 'delivery_failed', code: '40004' },
    4791: { name: 'destination-rejected-campaign-not-allowed', status: 'delivery_failed', code: '40004' },
    4792: { name: 'destination-rejected-sc-not-provisioned', status: 'delivery_failed', code: '40004' },
    4793: { name: 'destination-rejected-sc-expired', status: 'delivery_failed', code: '40004' },
    4795: { name: 'tfn-not-verified', status: 'delivery_failed', code: '40305' },
    5100: { name: 'temporary-app-error', status: 'sending_failed', code: '40006' },
    5101: { name: 'temporary-app-shutdown', status: 'sending_failed', code: '40006' },
    5106: { name: 'impossible-to-route', status: 'sending_failed', code: '40001' },
    5111: { name: 'temporary-app-connection-closed', status: 'sending_failed', code: '40006' },
    5201: { name: 'temporary-rout-error-retries-exceeded', status: 'sending_failed', code: '40006' },
    5211: { name: 'temporary-app-error-app-busy', status: 'sending_failed', code: '40006' },
    5220: { name: 'temporary-store-error', status: 'sending_failed', code: '40006' },
    5231: { name: 'discarded-concatenation-timeout', status: 'sending_failed', code: '40006' },
    5500: { name: 'message-send-failed', status: 'sending_failed', code: '40008' },
    5501: { name: 'message-send-failed', status: 'sending_failed', code: '40008' },
    5999: { name: 'unknown-error', status: 'sending_failed', code: '40008' },
    5600: { name: 'destination-carrier-queue-full', status: 'delivery_failed', code: '40006' },
    5610: { name: 'submit_ sm-or-submit_ multi-failed', status: 'delivery_failed', code: '40006' },
    5620: { name: 'destination-app-error', status: 'delivery_failed', code: '40006' },
    5630: { name: 'message-not-acknowle', status: 'delivery_failed', code: '40006' },
    5650: { name: 'destination-failed', status: 'delivery_failed', code: '40006' },
    9902: { name: 'delivery-receipt-expired', status: 'delivery_unconfirmed', code: '40008' },
    9999: { name: 'unknown-error', status: 'delivery_failed', code: '40008' },
  };

/** Codes Bandwidth adds later: by their first digits, as its error page describes the classes. */
function classOf(code: number): { status: FailedStatus; code: ErrorCode } {
  const head = Math.floor(code / 100);
  if (head === 47) return { status: 'delivery_failed', code: '40004' };
  if (head === 56) return { status: 'delivery_failed', code: '40006' };
  if (head >= 40 && head < 50) return { status: 'sending_failed', code: '40008' };
  if (head >= 50 && head < 60) return { status: 'sending_failed', code: '40006' };
  return { status: 'delivery_failed', code: '40008' };
}

export function carrierError(code: ErrorCode, detail: string): CarrierError {
  return { code, title: ERRORS[code].title, detail };
}

/** A `message-failed` callback → our status and error; Bandwidth's code and description in `detail`. */
export function mapFailedCallback(
  errorCode: number | undefined,
  description: string | undefined,
): { status: FailedStatus; error: CarrierError } {
  const said = description?.trim() || undefined;
  if (errorCode === undefined || !Number.isInteger(errorCode)) {
    return {
      status: 'delivery_failed',
      error: carrierError(
        '40008',
        `Bandwidth message-failed without an error code${said ? `: ${said}` : ''}`,
      ),
    };
  }
  const known = BANDWIDTH_ERROR_CODES[errorCode];
  const entry = known ?? classOf(errorCode);
  const text = said ?? known?.name;
  return {
    status: entry.status,
    error: carrierError(entry.code, `Bandwidth ${errorCode}${text ? ` ${text}` : ''}`),
  };
}

export interface SubmitFailureClass {
  retryable: boolean;
  code: ErrorCode;
}

/**
 * HTTP answers to `POST /users/{accountId}/messages` other than 202. Bandwidth: any 4xx or 5xx means
 * the message was not sent (and not billed).
 * - 400 (request-validation), 415: permanent 40009; 401 (after a fresh token) and 403: permanent
 *   10009; any other 4xx: permanent 40008.
 * - 408 and 429 (max-message-queue-size-exceeded): retryable 10011 / 40006, honouring Retry-After;
 *   5xx: retryable 40006. Timeouts, refused connections and resets: retryable 40006.
 */
export function classifySubmitStatus(httpStatus: number): SubmitFailureClass {
  if (httpStatus === 429) return { retryable: true, code: '10011' };
  if (httpStatus === 408 || httpStatus >= 500) return { retryable: true, code: '40006' };
  if (httpStatus === 400 || httpStatus === 415) return { retryable: false, code: '40009' };
  if (httpStatus === 401 || httpStatus === 403) return { retryable: false, code: '10009' };
  return { retryable: false, code: '40008' };
}

export const NETWORK_FAILURE: SubmitFailureClass = { retryable: true, code: '40006' };
