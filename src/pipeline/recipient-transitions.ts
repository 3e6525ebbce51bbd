import { ERRORS } from '../errors/catalogue.ts';
import type { RecipientStatus } from '../messages/status.ts';
import type { MessageRecord, RecipientRecord, TelnyxErrorRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';
import { emitRecipientEvent } from './emit-event.ts';

/** Shown on a recipient whose work the gateway gave up (the details are logged, not shown). */
export const GAVE_UP: TelnyxErrorRecord = {
  code: '10007',
  title: ERRORS['10007'].title,
  detail: ERRORS['10007'].detail,
};

/**
 * Moves recipients to a final status (from one of `from`), stamps completed_at and errors, and emits
 * `message.finalized` for each one that actually moved. Returns the number moved.
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
  let moved = 0;
  const at = now.toISOString();
  for (const r of recipients) {
    const changed = await tx.messages.transitionRecipient(
      r.id,
      from,
      { status, errors, completed_at: at },
      at,
    );
    if (!changed) continue;
    moved++;
    await emitRecipientEvent(
      tx,
      message,
      { ...r, status, errors, completed_at: at, updated_at: at },
      'message.finalized',
      now,
    );
  }
  return moved;
}
