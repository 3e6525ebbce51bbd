import { ERRORS } from '../errors/catalogue.ts';
import type { RecipientStatus } from '../messages/status.ts';
import type { MessageRecord, RecipientRecord, TelnyxErrorRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';
import { emitRecipientEvents } from './emit-event.ts';

/** Shown on a recipient whose work the gateway gave up (the details are logged, not shown). */
export const GAVE_UP: TelnyxErrorRecord = {
  code: '10007',
  title: ERRORS['10007'].title,
  detail: ERRORS['10007'].detail,
};

/**
 * Moves recipients to a final status (from one of `from`), stamps completed_at and errors, and emits
 * `message.finalized` for each one that actually moved (one UPDATE, one event INSERT). Returns the
 * number moved.
 */
export async function finalizeRecipients(
  tx: Repos,
  message: MessageRecord,
  recipients: RecipientRecord[],
  status: RecipientStatus,
  errors: TelnyxErrorRecord[],
  from: RecipientStatus[],
  now: Date,
): Promise<number> {
  const at = now.toISOString();
  const moved = await tx.messages.transitionRecipients(
    recipients,
    from,
    { status, errors, completed_at: at },
    at,
  );
  await emitRecipientEvents(
    tx,
    message,
    recipients
      .filter((r) => moved.has(r.id))
      .map((r) => ({ ...r, status, errors, completed_at: at, updated_at: at })),
    'message.finalized',
    now,
  );
  return moved.size;
}
