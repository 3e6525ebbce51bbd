import { randomBytes } from 'node:crypto';
import type { Outcome } from './types.ts';

export type CallbackEvent = Record<string, unknown>;

/** Descriptions of a few error codes, from Bandwidth's error table (anything else: `message-failed`). */
const DESCRIPTIONS: Record<number, string> = {
  4405: 'rejected-unallocated-from-number',
  4432: 'forbidden to country',
  4470: 'rejected-spam-detected',
  4720: 'invalid-destination-address',
  4775: 'destination-rejected-due-to-user-opt-out',
  5600: 'destination-carrier-queue-full',
  9902: 'delivery-receipt-expired',
};

/** 13-digit epoch milliseconds + 16 lowercase letters and digits, as Bandwidth's ids look. */
export function bandwidthMessageId(now = Date.now()): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const tail = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${String(now).padStart(13, '0').slice(-13)}${tail}`;
}

/**
 * The status callbacks of an accepted message, per recipient as Bandwidth sends them for a group
 * (top-level `to` = that recipient, the same `message` in each, `text` empty since Bandwidth does not
 * keep it): `message-sent`, then `message-delivered` or `message-failed`.
 */
export function statusEvents(
  message: Record<string, unknown>,
  recipients: string[],
  outcomeOf: (phoneNumber: string) => Outcome | undefined,
): { sent: CallbackEvent[]; finals: CallbackEvent[] } {
  const sent: CallbackEvent[] = [];
  const finals: CallbackEvent[] = [];
  const callbackMessage = { ...message, text: '' };
  for (const to of recipients) {
    const outcome: Outcome = outcomeOf(to) ?? { outcome: 'delivered' };
    const time = () => new Date().toISOString();
    const base = { to, message: callbackMessage };
    if (outcome.outcome === 'delivered') {
      sent.push({ ...base, type: 'message-sent', time: time(), description: 'Message sent to carrier' });
      finals.push({
        ...base,
        type: 'message-delivered',
        time: time(),
        description: 'Message delivered to handset.',
      });
      continue;
    }
    // 41xx/43xx/44xx and 51xx-55xx never leave Bandwidth: no message-sent before the failure.
    const head = Math.floor(outcome.errorCode / 100);
    const leftBandwidth = head === 47 || head === 56 || head >= 90;
    if (leftBandwidth) {
      sent.push({ ...base, type: 'message-sent', time: time(), description: 'Message sent to carrier' });
    }
    finals.push({
      ...base,
      type: 'message-failed',
      time: time(),
      description: outcome.description ?? DESCRIPTIONS[outcome.errorCode] ?? 'message-failed',
      errorCode: outcome.errorCode,
    });
  }
  return { sent, finals };
}

/** One `message-received` event: the copy of an inbound message for one number of the account. */
export function inboundEvent(input: {
  id: string;
  owner: string;
  applicationId: string;
  from: string;
  to: string[];
  text: string;
  media: string[];
}): CallbackEvent {
  const time = new Date().toISOString();
  return {
    time,
    type: 'message-received',
    to: input.owner,
    description: 'Incoming message received',
    message: {
      id: input.id,
      owner: input.owner,
      applicationId: input.applicationId,
      time,
      segmentCount: 1,
      direction: 'in',
      to: input.to,
      from: input.from,
      text: input.text,
      ...(input.media.length > 0 ? { media: input.media } : {}),
    },
  };
}
