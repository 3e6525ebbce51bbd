/**
 * Reading Bandwidth's message callbacks. The docs say every callback is a JSON array of events; the
 * spec's schemas and examples show a single object: both are taken. A batch is read whole before
 * anything is recorded, so a bad event refuses the batch and stores nothing.
 */

export type StatusEventType = 'message-sending' | 'message-sent' | 'message-delivered' | 'message-failed';

export interface StatusEvent {
  kind: 'status';
  type: StatusEventType;
  /** The recipient this event is about. */
  to: string;
  messageId: string;
  time: Date;
  description?: string;
  errorCode?: number;
}

export interface InboundEvent {
  kind: 'inbound';
  /** Our number this copy belongs to (Bandwidth sends one event per number of ours). */
  owner: string;
  messageId: string;
  from: string;
  /** Every recipient of the message, ours and others. */
  to: string[];
  text: string | null;
  media: string[];
  time: Date;
}

/** RBM-only events (`message-read`, `suggestion-response`, …) and types we do not know: acknowledged, not used. */
export interface IgnoredEvent {
  kind: 'ignored';
  type: string;
}

export type CallbackEvent = StatusEvent | InboundEvent | IgnoredEvent;

export type ReadEvents = { ok: true; events: CallbackEvent[] } | { ok: false; problems: string[] };

export const MAX_EVENTS_PER_CALLBACK = 1000;
const STATUS_TYPES = new Set<string>([
  'message-sending',
  'message-sent',
  'message-delivered',
  'message-failed',
]);
const MAX_FIELD = 4096;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown, max = MAX_FIELD): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

export function readCallbackEvents(body: unknown, now: Date): ReadEvents {
  const list = Array.isArray(body) ? body : isObject(body) ? [body] : null;
  if (!list) return { ok: false, problems: ['the body must be a JSON array of events (or one event)'] };
  if (list.length > MAX_EVENTS_PER_CALLBACK) {
    return { ok: false, problems: [`at most ${MAX_EVENTS_PER_CALLBACK} events per callback`] };
  }
  const events: CallbackEvent[] = [];
  const problems: string[] = [];
  list.forEach((item, i) => {
    const read = readEvent(item, now);
    if (typeof read === 'string') problems.push(`event ${i}: ${read}`);
    else events.push(read);
  });
  return problems.length > 0 ? { ok: false, problems: problems.slice(0, 20) } : { ok: true, events };
}

function readEvent(item: unknown, now: Date): CallbackEvent | string {
  if (!isObject(item)) return 'must be an object';
  const type = item.type;
  if (!text(type, 64)) return 'type must be a string';
  if (type !== 'message-received' && !STATUS_TYPES.has(type)) return { kind: 'ignored', type };
  const message = item.message;
  if (!isObject(message)) return 'message must be an object';
  if (!text(message.id, 256)) return 'message.id must be a string';
  if (!text(item.to, 64)) return 'to must be a phone number';
  const time = readTime(item.time, now);
  if (!time) return 'time must be a date-time';

  if (type === 'message-received') {
    if (!text(message.from, 64)) return 'message.from must be a string';
    const to = Array.isArray(message.to) ? message.to : message.to === undefined ? [item.to] : [message.to];
    if (to.length > 100 || !to.every((n) => text(n, 64))) return 'message.to must be a list of numbers';
    if (message.text !== undefined && message.text !== null && typeof message.text !== 'string') {
      return 'message.text must be a string';
    }
    const media = message.media ?? [];
    if (!Array.isArray(media) || media.length > 20 || !media.every((u) => text(u) && URL.canParse(u))) {
      return 'message.media must be a list of URLs';
    }
    return {
      kind: 'inbound',
      owner: item.to,
      messageId: message.id,
      from: message.from,
      to: to as string[],
      text: typeof message.text === 'string' && message.text !== '' ? message.text : null,
      media: media as string[],
      time,
    };
  }

  const event: StatusEvent = {
    kind: 'status',
    type: type as StatusEventType,
    to: item.to,
    messageId: message.id,
    time,
  };
  if (item.description !== undefined) {
    if (typeof item.description !== 'string') return 'description must be a string';
    event.description = item.description.slice(0, 512);
  }
  if (item.errorCode !== undefined && item.errorCode !== null) {
    const code = typeof item.errorCode === 'string' ? Number(item.errorCode) : item.errorCode;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 99_999) {
      return 'errorCode must be an integer';
    }
    event.errorCode = code;
  }
  return event;
}

/** An event without `time` is taken as happening now; one with an unreadable `time` is refused. */
function readTime(value: unknown, now: Date): Date | null {
  if (value === undefined) return now;
  if (typeof value !== 'string' || value.length > 64) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : new Date(at);
}
