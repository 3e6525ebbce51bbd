/** Per-recipient delivery statuses, as Telnyx names them. */
export const RECIPIENT_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'sending_failed',
  'delivery_failed',
  'delivery_unconfirmed',
  'expired',
] as const;

export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

const FINAL: ReadonlySet<RecipientStatus> = new Set([
  'delivered',
  'sending_failed',
  'delivery_failed',
  'delivery_unconfirmed',
  'expired',
]);

export function isFinalStatus(status: RecipientStatus): boolean {
  return FINAL.has(status);
}
