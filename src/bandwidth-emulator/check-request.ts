/**
 * What Bandwidth checks on `POST /users/{accountId}/messages`, from the spec's `messageRequest`
 * schema and the docs (written from those, not from any client): required `applicationId`, `to`,
 * `from`; `to` unique E.164 numbers, at most 10 (the docs' group limit; `to` as a plain string is
 * taken, as old docs allow); `text` ≤ 2048; `media` URLs ≤ 4096 characters, at most 10; `tag` ≤ 1024;
 * `priority` default|high; `expiration` a future RFC 3339 date-time; text or media present.
 */

export interface FieldError {
  fieldName: string;
  description: string;
}

export interface CheckedRequest {
  applicationId: string;
  to: string[];
  from: string;
  text?: string;
  media?: string[];
  tag?: string;
  priority?: string;
  expiration?: string;
}

export const MAX_RECIPIENTS = 10;
export const MAX_MEDIA = 10;
const E164 = /^\+[1-9]\d{1,14}$/;
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9 +_&-]{1,11}$/;
const KNOWN_FIELDS = new Set([
  'applicationId',
  'to',
  'from',
  'text',
  'media',
  'tag',
  'priority',
  'expiration',
]);

export type CheckResult =
  | { ok: true; request: CheckedRequest; unknownFields: string[] }
  | { ok: false; fieldErrors: FieldError[] };

export function checkMessageRequest(body: unknown, now: Date): CheckResult {
  const errors: FieldError[] = [];
  const fail = (fieldName: string, description: string) => errors.push({ fieldName, description });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, fieldErrors: [{ fieldName: 'body', description: 'must be a JSON object' }] };
  }
  const b = body as Record<string, unknown>;

  if (typeof b.applicationId !== 'string' || b.applicationId === '') fail('applicationId', 'is required');
  const to = typeof b.to === 'string' ? [b.to] : b.to;
  if (!Array.isArray(to) || to.length === 0) fail('to', 'must list at least one phone number');
  else {
    for (const n of to) {
      if (typeof n !== 'string' || !E164.test(n)) {
        fail('to', `'${String(n)}' must be replaced with a valid E164 formatted telephone number`);
      }
    }
    if (new Set(to).size !== to.length) fail('to', 'must not list a number twice');
    if (to.length > MAX_RECIPIENTS) fail('to', `a group message has at most ${MAX_RECIPIENTS} recipients`);
  }
  if (typeof b.from !== 'string' || !(E164.test(b.from) || SENDER_ID.test(b.from))) {
    fail('from', `'${String(b.from)}' must be replaced with a valid E164 formatted telephone number`);
  }
  if (b.text !== undefined && (typeof b.text !== 'string' || b.text.length > 2048)) {
    fail('text', 'must be a string of 2048 characters or less');
  }
  if (b.media !== undefined) {
    if (!Array.isArray(b.media)) fail('media', 'must be a list of URLs');
    else {
      if (b.media.length > MAX_MEDIA) fail('media', `at most ${MAX_MEDIA} attachments`);
      for (const u of b.media) {
        if (typeof u !== 'string' || u.length > 4096 || !/^https?:\/\//.test(u) || !URL.canParse(u)) {
          fail('media', `'${String(u).slice(0, 100)}' must be an http(s) URL of 4096 characters or less`);
        }
      }
    }
  }
  const hasText = typeof b.text === 'string' && b.text !== '';
  const hasMedia = Array.isArray(b.media) && b.media.length > 0;
  if (!hasText && !hasMedia) fail('text', 'a message needs text or media');
  if (b.tag !== undefined && (typeof b.tag !== 'string' || b.tag.length > 1024)) {
    fail('tag', 'must be a string of 1024 characters or less');
  }
  if (b.priority !== undefined && b.priority !== 'default' && b.priority !== 'high') {
    fail('priority', "must be 'default' or 'high'");
  }
  if (b.expiration !== undefined) {
    const at = typeof b.expiration === 'string' ? Date.parse(b.expiration) : Number.NaN;
    if (Number.isNaN(at) || at <= now.getTime())
      fail('expiration', 'must be an RFC-3339 date-time in the future');
  }
  if (errors.length > 0) return { ok: false, fieldErrors: errors };
  return {
    ok: true,
    request: { ...(b as unknown as CheckedRequest), to: to as string[] },
    unknownFields: Object.keys(b).filter((k) => !KNOWN_FIELDS.has(k)),
  };
}
