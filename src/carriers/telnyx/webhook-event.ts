/**
 * What a Telnyx-compatible upstream's webhook says, read into our terms. The README's
 * "Telnyx-compatible upstream" section repeats the mapping; change both.
 *
 * - `message.sent`: each recipient in `payload.to` → report `sent`.
 * - `message.finalized`: each recipient → its own status: delivered, delivery_failed,
 *   delivery_unconfirmed or sending_failed (an upstream's `expired`, never sent, → sending_failed),
 *   with the upstream's first error, Telnyx code kept.
 * - Reports match our recipient by the upstream message id (`group_message_id`, which mms-gateway
 *   adds; else `id`) and the recipient's number.
 * - `message.received`: an inbound message for the intake.
 * - Any other event type is acknowledged and ignored.
 */
import { z } from 'zod';
import type { CarrierError, DeliveryReport, ReportedStatus } from '../types.ts';

const text = (max: number) => z.string().min(1).max(max);
const phone = text(64);
const address = z.union([phone, z.object({ phone_number: phone }).passthrough()]);
const addresses = z
  .union([z.array(address).max(100), address])
  .transform((a) => (Array.isArray(a) ? a : [a]));

const envelope = z.object({
  data: z
    .object({
      id: text(256),
      event_type: text(128),
      occurred_at: z.string().max(64).optional(),
      payload: z.record(z.string(), z.unknown()),
    })
    .passthrough(),
});

const errorSchema = z
  .object({
    code: z.union([z.string(), z.number()]).transform(String).pipe(text(32)),
    title: z.string().max(256).optional(),
    detail: z.string().max(1024).nullish(),
  })
  .passthrough();

const statusPayload = z
  .object({
    id: text(256),
    group_message_id: text(256).nullish(),
    to: z
      .array(z.object({ phone_number: phone, status: z.string().max(64) }).passthrough())
      .min(1)
      .max(100),
    errors: z.array(errorSchema).max(50).nullish(),
  })
  .passthrough();

const receivedPayload = z
  .object({
    id: text(256).optional(),
    from: address,
    to: addresses,
    cc: addresses.nullish(),
    text: z.string().max(100_000).nullish(),
    subject: z.string().max(1024).nullish(),
    media: z
      .array(
        z
          .object({
            url: z
              .string()
              .regex(/^https?:\/\/\S+$/)
              .max(2048),
            content_type: z.string().max(256).nullish(),
            hash_sha256: z
              .string()
              .regex(/^[0-9a-fA-F]{64}$/)
              .nullish(),
            sha256: z
              .string()
              .regex(/^[0-9a-fA-F]{64}$/)
              .nullish(),
          })
          .passthrough(),
      )
      .max(20)
      .nullish(),
  })
  .passthrough();

const FINAL: Record<string, ReportedStatus> = {
  delivered: 'delivered',
  delivery_failed: 'delivery_failed',
  delivery_unconfirmed: 'delivery_unconfirmed',
  sending_failed: 'sending_failed',
  expired: 'sending_failed',
};

export interface UpstreamInbound {
  upstreamId: string | null;
  from: string;
  to: string[];
  cc: string[];
  subject: string | null;
  text: string | null;
  media: Array<{ url: string; contentType: string | null; sha256: string | null }>;
}

export type UpstreamEvent = { eventId: string; eventType: string } & (
  | { kind: 'reports'; reports: DeliveryReport[] }
  | { kind: 'received'; message: UpstreamInbound }
  | { kind: 'ignored' }
);

export type EventRead = { ok: true; event: UpstreamEvent } | { ok: false; problem: string };

const numberOf = (a: z.infer<typeof address>) => (typeof a === 'string' ? a : a.phone_number);
const problemOf = (e: z.ZodError) =>
  e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

export function readUpstreamEvent(rawBody: string, now: Date): EventRead {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  const env = envelope.safeParse(json);
  if (!env.success) return { ok: false, problem: problemOf(env.error) };
  const { id: eventId, event_type: eventType, occurred_at, payload } = env.data.data;
  const at = occurred_at && !Number.isNaN(Date.parse(occurred_at)) ? new Date(occurred_at) : now;

  if (eventType === 'message.sent' || eventType === 'message.finalized') {
    const p = statusPayload.safeParse(payload);
    if (!p.success) return { ok: false, problem: problemOf(p.error) };
    const carrierMessageId = p.data.group_message_id ?? p.data.id;
    const first = p.data.errors?.[0];
    const error: CarrierError | undefined = first
      ? {
          code: first.code,
          title: first.title ?? `Upstream error ${first.code}`,
          ...(first.detail ? { detail: first.detail } : {}),
        }
      : undefined;
    const reports: DeliveryReport[] = [];
    for (const r of p.data.to) {
      const status = eventType === 'message.sent' ? 'sent' : FINAL[r.status];
      if (!status)
        return { ok: false, problem: `payload.to: ${JSON.stringify(r.status)} is not a final status` };
      const failed = status === 'delivery_failed' || status === 'sending_failed';
      reports.push({
        carrierMessageId,
        phoneNumber: r.phone_number,
        status,
        ...(failed && error ? { error } : {}),
        occurredAt: at,
      });
    }
    return { ok: true, event: { eventId, eventType, kind: 'reports', reports } };
  }

  if (eventType === 'message.received') {
    const p = receivedPayload.safeParse(payload);
    if (!p.success) return { ok: false, problem: problemOf(p.error) };
    const m = p.data;
    return {
      ok: true,
      event: {
        eventId,
        eventType,
        kind: 'received',
        message: {
          upstreamId: m.id ?? null,
          from: numberOf(m.from),
          to: m.to.map(numberOf),
          cc: (m.cc ?? []).map(numberOf),
          subject: m.subject ?? null,
          text: m.text ?? null,
          media: (m.media ?? []).map((x) => ({
            url: x.url,
            contentType: x.content_type ?? null,
            sha256: (x.hash_sha256 ?? x.sha256)?.toLowerCase() ?? null,
          })),
        },
      },
    };
  }
  return { ok: true, event: { eventId, eventType, kind: 'ignored' } };
}
