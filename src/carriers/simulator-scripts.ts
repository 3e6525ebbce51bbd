/**
 * The carrier simulator's script as data (the table at the top of simulator.ts renders it; keep
 * the two in step). `scriptFor` picks the script for a recipient number.
 */
import type { CarrierError, FinalDeliveryStatus } from './types.ts';

export interface ScriptedReport {
  status: FinalDeliveryStatus;
  error?: CarrierError;
  /** Which of the simulator's delay options applies. */
  delay: 'reportDelayMs' | 'slowReportDelayMs';
}

/**
 * What the simulated handset sends back once its delivery report is due, through the inbound intake:
 * `group` a reply to the whole group (to the sender, cc the other recipients) after replyDelayMs;
 * `stop` the text STOP to the sender; `media` a picture (the simulator's own small PNG) to the sender.
 */
export type ScriptedReplyKind = 'group' | 'stop' | 'media';

export type SimulatorScript = {
  /** The number pattern, for documentation: '+1NPA5550100', or '*' for every other number. */
  number: string;
  /** The subscriber part (7 digits after the area code) this script answers to; null for the default. */
  subscriber: string | null;
  description: string;
  /** This handset answers the message it was delivered. */
  reply?: ScriptedReplyKind;
} & (
  | { submit: 'accept'; report: ScriptedReport }
  /** This recipient is refused (sending_failed); the rest of the group goes on. */
  | { submit: 'refuse'; submitError: CarrierError }
  /** The whole submission fails, retryable, while attempt <= carrierDownAttempts; then like 'accept'. */
  | { submit: 'carrier_down'; submitError: CarrierError; report: ScriptedReport }
);

// code/title/detail as in Telnyx's error table.
export const SIMULATOR_ERRORS = {
  notRoutable: {
    code: '40001',
    title: 'Not routable',
    detail: 'The destination number is either a landline or a non-routable wireless number.',
  },
  spamTemporary: {
    code: '40002',
    title: 'Blocked as spam - temporary',
    detail: 'The message was flagged by a SPAM filter and was not delivered. This is a temporary condition.',
  },
  recipientServerUnavailable: {
    code: '40006',
    title: 'Recipient server unavailable',
    detail: 'The recipient server is unavailable or not responding.',
  },
  undeliverable: {
    code: '40008',
    title: 'Undeliverable',
    detail: 'The recipient carrier did not accept the message.',
  },
} as const satisfies Record<string, CarrierError>;

const DELIVERED = { status: 'delivered', delay: 'reportDelayMs' } as const;

export const DEFAULT_SIMULATOR_SCRIPT: SimulatorScript = {
  number: '*',
  subscriber: null,
  description: 'Every other number: delivered',
  submit: 'accept',
  report: DELIVERED,
};

export const SIMULATOR_SCRIPTS: readonly SimulatorScript[] = [
  {
    number: '+1NPA5550100',
    subscriber: '5550100',
    description: 'Delivered',
    submit: 'accept',
    report: DELIVERED,
  },
  {
    number: '+1NPA5550101',
    subscriber: '5550101',
    description: 'Delivery failed: 40008 Undeliverable',
    submit: 'accept',
    report: { status: 'delivery_failed', error: SIMULATOR_ERRORS.undeliverable, delay: 'reportDelayMs' },
  },
  {
    number: '+1NPA5550102',
    subscriber: '5550102',
    description: 'Sending failed at submit: 40001 Not routable (the rest of the group goes on)',
    submit: 'refuse',
    submitError: SIMULATOR_ERRORS.notRoutable,
  },
  {
    number: '+1NPA5550103',
    subscriber: '5550103',
    description: 'Spam-blocked: delivery failed with 40002 Blocked as spam - temporary',
    submit: 'accept',
    report: { status: 'delivery_failed', error: SIMULATOR_ERRORS.spamTemporary, delay: 'reportDelayMs' },
  },
  {
    number: '+1NPA5550104',
    subscriber: '5550104',
    description: 'No delivery receipt: delivery_unconfirmed, no error',
    submit: 'accept',
    report: { status: 'delivery_unconfirmed', delay: 'reportDelayMs' },
  },
  {
    number: '+1NPA5550105',
    subscriber: '5550105',
    description: 'Slow report: delivered after slowReportDelayMs (default 5000 ms)',
    submit: 'accept',
    report: { status: 'delivered', delay: 'slowReportDelayMs' },
  },
  {
    number: '+1NPA5550106',
    subscriber: '5550106',
    description:
      'Carrier down: the whole submit fails retryable (40006 Recipient server unavailable) while ' +
      'attempt <= carrierDownAttempts (default 2), then it is accepted and delivered',
    submit: 'carrier_down',
    submitError: SIMULATOR_ERRORS.recipientServerUnavailable,
    report: DELIVERED,
  },
  {
    number: '+1NPA5550107',
    subscriber: '5550107',
    description:
      'Replies to the group: delivered, then after replyDelayMs (default 2000 ms) it sends "Reply all from ' +
      '+1NPA5550107" to the sender with cc = the other recipients of the group',
    submit: 'accept',
    report: DELIVERED,
    reply: 'group',
  },
  {
    number: '+1NPA5550108',
    subscriber: '5550108',
    description: 'Replies STOP: delivered, then it sends the text STOP to the sender',
    submit: 'accept',
    report: DELIVERED,
    reply: 'stop',
  },
  {
    number: '+1NPA5550109',
    subscriber: '5550109',
    description:
      'Replies with media: delivered, then it sends a picture (image/png) with a caption to the sender',
    submit: 'accept',
    report: DELIVERED,
    reply: 'media',
  },
  DEFAULT_SIMULATOR_SCRIPT,
];

const MAGIC_NUMBER = /^\+1[2-9]\d{2}(55501\d{2})$/;

const BY_SUBSCRIBER = new Map(
  SIMULATOR_SCRIPTS.filter((s) => s.subscriber !== null).map((s) => [s.subscriber, s]),
);

export function scriptFor(phoneNumber: string): SimulatorScript {
  const subscriber = MAGIC_NUMBER.exec(phoneNumber)?.[1];
  return (subscriber && BY_SUBSCRIBER.get(subscriber)) || DEFAULT_SIMULATOR_SCRIPT;
}
