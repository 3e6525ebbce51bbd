import type { CarrierConnector, CarrierError, RecipientSubmitOutcome } from '../carriers/types.ts';
import { ERRORS } from '../errors/catalogue.ts';
import type { FetchMessageMediaResult } from '../media/fetch-message-media.ts';
import type { MediaStore } from '../media/media-store.ts';
import { SEND_QUEUE } from '../messages/create-group-mms.ts';
import { batchedCalls } from '../queue/batched-calls.ts';
import { batchedRead } from '../queue/batched-read.ts';
import type { JobControl, JobHandler } from '../queue/job-handler.ts';
import { nextRetryDelay, type RetrySchedule } from '../queue/retry-schedule.ts';
import type { JobRecord, MediaItem, MessageRecord, RecipientRecord } from '../store/records.ts';
import { LeaseLostError } from '../store/sql/jobs.ts';
import type { MessageWithRecipients } from '../store/sql/messages.ts';
import type { Repos, Store } from '../store/store.ts';
import { emitRecipientEvents } from './emit-event.ts';
import { finalizeRecipients, GAVE_UP } from './recipient-transitions.ts';
import { recordScheduledReports } from './record-delivery-report.ts';
import { type RouteSubmitter, singleConnectorRoute } from './submit-along-route.ts';

export interface SendMessageDeps {
  store: Store;
  /** The message's way out: failover along its profile's route, breakers and throughput limits. */
  route?: RouteSubmitter;
  /** Without `route`: the one connector that takes this message. */
  connectorFor?(message: MessageRecord): Promise<CarrierConnector>;
  mediaStore: MediaStore;
  fetchMedia(urls: string[]): Promise<FetchMessageMediaResult>;
  carrierRetry: RetrySchedule;
}

const EXPIRED = { code: '40014', title: ERRORS['40014'].title, detail: ERRORS['40014'].detail };

/** The carrier's answer named some recipients but not this one: its fate is unknown, so it failed. */
const NOT_IN_ANSWER: CarrierError = {
  code: '10007',
  title: ERRORS['10007'].title,
  detail: 'The carrier did not answer for this recipient.',
};

const toErrors = (e: CarrierError) => [
  { code: e.code, title: e.title, ...(e.detail ? { detail: e.detail } : {}) },
];

async function mediaReady(media: MediaItem[], store: MediaStore): Promise<boolean> {
  for (const m of media) if (m.sha256 === null || !(await store.has(m.sha256))) return false;
  return true;
}

/**
 * `message.send`: fetch and check the media, mark the recipients `sending`, submit the group to the
 * carrier, and record what it said per recipient. The `sending` mark is committed before the submit,
 * so a retry after a crash resubmits with the same idempotency key.
 */
export function sendMessageHandler(deps: SendMessageDeps): JobHandler {
  const { store } = deps;
  const route =
    deps.route ??
    singleConnectorRoute(
      deps.connectorFor ??
        (() => {
          throw new Error('sendMessageHandler needs a route or a connector');
        }),
    );
  // The send jobs claimed together read their messages with one query, and start together: one
  // transaction renews their leases and marks their recipients `sending`, a statement each.
  const readMessage = batchedRead((ids) => store.messages.getMany(ids));
  const startTogether = batchedCalls((starts: SendStart[]) =>
    store.transaction((tx) => startSends(tx, starts)),
  );
  return {
    queue: SEND_QUEUE,
    async run(control) {
      // Started by the node that accepted it: the message as that accept wrote it.
      const found =
        (control.job.fresh as MessageWithRecipients | undefined) ??
        (await readMessage(String(control.job.payload.messageId)));
      const pending = found?.recipients.filter((r) => r.status === 'queued' || r.status === 'sending') ?? [];
      if (!found || pending.length === 0) return control.complete();
      const { message } = found;

      if (Date.now() >= Date.parse(message.valid_until)) {
        return control.complete(async (tx) => {
          await finalizeRecipients(
            tx,
            message,
            pending,
            'expired',
            [EXPIRED],
            ['queued', 'sending'],
            new Date(),
          );
        });
      }

      let media = message.media;
      if (media.length > 0 && !(await mediaReady(media, deps.mediaStore))) {
        const fetched = await deps.fetchMedia(media.map((m) => m.url));
        if (!fetched.ok) {
          const error = [
            { code: fetched.error.code, title: fetched.error.title, detail: fetched.error.detail },
          ];
          return control.complete(async (tx) => {
            await finalizeRecipients(
              tx,
              message,
              pending,
              'sending_failed',
              error,
              ['queued', 'sending'],
              new Date(),
            );
          });
        }
        media = fetched.media.map((m) => ({
          url: m.url,
          content_type: m.contentType,
          sha256: m.sha256,
          size: m.size,
        }));
      }

      const plan = await route.prepare(message);
      // Waiting its turn never outlasts valid_until: the run at that moment expires it on time.
      if (plan.waitUntil !== undefined) {
        return control.waitUntil(Math.min(plan.waitUntil, Date.parse(message.valid_until)));
      }

      control.throwIfAborted();
      const started = await startTogether({
        control,
        messageId: message.id,
        ...(media !== message.media ? { media } : {}),
        pending,
      });
      if (!started) throw new LeaseLostError(control.job.id);
      const sending: MessageRecord = { ...message, media };

      const { connector, result } = await plan.submit({
        idempotencyKey: message.id,
        messageId: message.id,
        from: message.from_number,
        recipients: pending.map((r) => ({ recipientId: r.id, phoneNumber: r.phone_number })),
        text: message.text,
        subject: message.subject,
        media: media.map((m) => ({
          url: m.url,
          contentType: m.content_type!,
          size: m.size!,
          sha256: m.sha256!,
          read: () => deps.mediaStore.read(m.sha256!),
        })),
        attempt: control.job.retries + 1,
        signal: control.signal,
      });

      if (!result.ok) {
        const delay = result.retryable
          ? nextRetryDelay(deps.carrierRetry, control.job.retries + 1, Math.random, result.retryAfterMs)
          : null;
        if (delay !== null) {
          // Never later than valid_until: the run at that moment expires the message on time.
          const runAt = Math.min(Date.now() + delay, Date.parse(message.valid_until));
          // The carrier's error shows on each waiting recipient (still `sending`) until the retry.
          return control.retryAt(runAt, `${result.error.code} ${result.error.title}`, async (tx) => {
            const waiting = { status: 'sending' as const, errors: toErrors(result.error) };
            await tx.messages.transitionRecipients(pending, ['sending'], waiting, new Date().toISOString());
          });
        }
        return control.complete(async (tx) => {
          if (connector) await tx.breakers.recordMessageConnector(message.id, connector);
          await finalizeRecipients(
            tx,
            sending,
            pending,
            'sending_failed',
            toErrors(result.error),
            ['sending'],
            new Date(),
          );
        });
      }

      const answered = result;
      return control.complete(async (tx) => {
        if (connector) await tx.breakers.recordMessageConnector(message.id, connector);
        const now = new Date();
        const recipients = await recordAnswer(tx, sending, pending, answered.recipients, now);
        // The reports the carrier gave with its answer: durable with it, one job per due time.
        if (answered.reports && answered.reports.length > 0) {
          const fresh = recipients && { message: { ...sending, connector: connector ?? null }, recipients };
          await recordScheduledReports(tx, answered.reports, Date.now(), fresh ?? undefined);
        }
      });
    },
    // Crashed too often: every recipient not yet submitted ends `sending_failed`, with its webhook.
    async giveUp(job: JobRecord, tx: Repos) {
      const found = await tx.messages.get(String(job.payload.messageId));
      if (!found) return;
      const open = found.recipients.filter((r) => r.status === 'queued' || r.status === 'sending');
      await finalizeRecipients(
        tx,
        found.message,
        open,
        'sending_failed',
        [GAVE_UP],
        ['queued', 'sending'],
        new Date(),
      );
    },
  };
}

interface SendStart {
  control: JobControl;
  messageId: string;
  /** The media as fetched, when the message's record must be updated with it. */
  media?: MediaItem[];
  pending: RecipientRecord[];
}

/**
 * Renews the leases of sends about to submit and marks their recipients `sending`, committed before
 * any of them submits; answers, per send, whether it still held its lease (one that lost it marks
 * nothing and must not submit).
 */
async function startSends(tx: Repos, starts: readonly SendStart[]): Promise<boolean[]> {
  const held = new Set<number>();
  const owners = new Map<string, SendStart[]>();
  for (const s of starts)
    owners.set(s.control.lease.workerId, [...(owners.get(s.control.lease.workerId) ?? []), s]);
  for (const [workerId, group] of owners) {
    const ids = group.map((s) => s.control.job.id);
    for (const id of await tx.jobs.extendLeases(workerId, ids, group[0]!.control.lease.ms)) held.add(id);
  }
  const live = starts.filter((s) => held.has(s.control.job.id));
  for (const s of live) if (s.media) await tx.messages.updateMedia(s.messageId, s.media);
  const pending = live.flatMap((s) => s.pending);
  await tx.messages.transitionRecipients(
    pending,
    ['queued'],
    { status: 'sending' },
    new Date().toISOString(),
  );
  return starts.map((s) => held.has(s.control.job.id));
}

/**
 * The carrier's answer, per recipient, with a statement per kind of outcome rather than per
 * recipient: sent (with message.sent), accepted but awaiting its `sent` report (still `sending`, with
 * its carrier id), refused, or left out of the answer (both final, with message.finalized). Returns
 * the recipients as now stored when every one was accepted and moved (the usual answer), else null.
 */
async function recordAnswer(
  tx: Repos,
  message: MessageRecord,
  pending: RecipientRecord[],
  outcomes: RecipientSubmitOutcome[],
  now: Date,
): Promise<RecipientRecord[] | null> {
  const at = now.toISOString();
  const byId = new Map<string, RecipientRecord>(pending.map((r) => [r.id, r]));
  const sent: RecipientRecord[] = [];
  const awaiting: RecipientRecord[] = [];
  const carrierIds = new Map<string, string>();
  const refused = new Map<string, { error: CarrierError; recipients: RecipientRecord[] }>();
  for (const outcome of outcomes) {
    const r = byId.get(outcome.recipientId);
    if (!r) continue;
    if (!outcome.accepted) {
      const key = JSON.stringify(outcome.error);
      const group = refused.get(key) ?? { error: outcome.error, recipients: [] };
      group.recipients.push(r);
      refused.set(key, group);
      continue;
    }
    carrierIds.set(r.id, outcome.carrierMessageId);
    (outcome.awaitingSent ? awaiting : sent).push(r);
  }
  for (const { error, recipients } of refused.values()) {
    await finalizeRecipients(tx, message, recipients, 'sending_failed', toErrors(error), ['sending'], now);
  }
  const queued = { status: 'sending' as const, errors: [], carrierIds };
  const stillSending = await tx.messages.transitionRecipients(awaiting, ['sending'], queued, at);
  const change = { status: 'sent' as const, errors: [], sent_at: at };
  const moved = await tx.messages.transitionRecipients(sent, ['sending'], { ...change, carrierIds }, at);
  const nowSent = sent
    .filter((r) => moved.has(r.id))
    .map((r) => ({ ...r, ...change, carrier_message_id: carrierIds.get(r.id)!, updated_at: at }));
  await emitRecipientEvents(tx, message, nowSent, 'message.sent', now);
  const answered = new Set(outcomes.map((o) => o.recipientId));
  const missing = pending.filter((r) => !answered.has(r.id));
  if (missing.length > 0) {
    await finalizeRecipients(tx, message, missing, 'sending_failed', [NOT_IN_ANSWER], ['sending'], now);
  }
  const awaitingNow = awaiting
    .filter((r) => stillSending.has(r.id))
    .map((r) => ({
      ...r,
      status: 'sending' as const,
      errors: [],
      carrier_message_id: carrierIds.get(r.id)!,
      updated_at: at,
    }));
  const known = [...nowSent, ...awaitingNow];
  return known.length === pending.length ? pending.map((r) => known.find((k) => k.id === r.id)!) : null;
}
