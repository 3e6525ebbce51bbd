import type { ReceivedMessage, ReceiveOutcome } from '../inbound/receive-message.ts';
import type { JobHandler } from '../queue/job-handler.ts';
import type { Repos, Store } from '../store/store.ts';
import type { ScheduledReply } from './simulator.ts';
import type { ScriptedReplyKind } from './simulator-scripts.ts';

/** The queue of the scripted handsets' replies (+1NPA5550107-0109). */
export const SIMULATOR_REPLY_QUEUE = 'simulator.reply';

/** What a reply job keeps: enough to build the reply from the stored group message when it is due. */
interface StoredReply {
  kind: ScriptedReplyKind;
  from: string;
  messageId: string;
  carrierMessageId: string;
}

/** An 8×8 blue PNG: the picture the media-replying handset sends (no fetch, always the same bytes). */
export const SIMULATOR_REPLY_PICTURE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGOQm/AfK2IYWhIAr+9rQUHkcqkAAAAASUVORK5CYII=',
  'base64',
);

/** The texts the scripted handsets send, for documentation and tests. */
export function simulatorReplyText(kind: ScriptedReplyKind, from: string): string {
  switch (kind) {
    case 'group':
      return `Reply all from ${from}`;
    case 'stop':
      return 'STOP';
    case 'media':
      return `Picture from ${from}`;
  }
}

/**
 * Queues a handset's reply, due at `reply.at`, in the caller's transaction (the one that schedules
 * the delivery report): one job per delivered copy while it is pending.
 */
export async function scheduleSimulatorReply(
  tx: Pick<Repos, 'jobs'>,
  reply: ScheduledReply,
  now: number,
): Promise<void> {
  const payload: StoredReply = {
    kind: reply.kind,
    from: reply.from,
    messageId: reply.messageId,
    carrierMessageId: reply.carrierMessageId,
  };
  await tx.jobs.enqueue({
    queue: SIMULATOR_REPLY_QUEUE,
    payload: { ...payload },
    delayMs: Math.max(0, reply.at.getTime() - now),
    uniqueKey: `simulator-reply:${reply.carrierMessageId}`,
  });
}

export interface SimulatorReplyDeps {
  store: Store;
  /** The inbound intake, as every connector uses it. */
  receive(message: ReceivedMessage): Promise<ReceiveOutcome>;
  /** A webhook was queued: wake the workers. */
  onWork(): void;
}

/**
 * `simulator.reply`: the scripted handset sends its answer through the inbound intake. `group` goes
 * to the group's sender with cc = every other recipient of the group (as a handset's reply-all
 * does); `stop` and `media` go to the sender alone. A message gone (deleted) means nothing to answer.
 * The STOP handset says STOP once to each of our numbers: a confirmation sent to it (of the STOP, or
 * of a START the developer sent in its name) must not start an endless exchange.
 */
export function simulatorReplyHandler(deps: SimulatorReplyDeps): JobHandler {
  return {
    queue: SIMULATOR_REPLY_QUEUE,
    async run(control) {
      const reply = control.job.payload as unknown as StoredReply;
      const found = await deps.store.messages.get(reply.messageId);
      if (!found) return control.complete();
      const { message, recipients } = found;
      if (
        reply.kind === 'stop' &&
        (await alreadyStopped(deps.store, message.organization_id, reply.from, message.from_number))
      ) {
        return control.complete();
      }
      const others = recipients.map((r) => r.phone_number).filter((p) => p !== reply.from);
      const outcome = await deps.receive({
        connector: 'simulator',
        carrierMessageId: null,
        from: reply.from,
        to: [message.from_number],
        cc: reply.kind === 'group' ? others : [],
        bcc: [],
        subject: null,
        text: simulatorReplyText(reply.kind, reply.from),
        media: reply.kind === 'media' ? [{ contentType: 'image/png', bytes: SIMULATOR_REPLY_PICTURE }] : [],
        details: { simulatedReply: reply.kind, inReplyTo: reply.messageId },
      });
      await control.complete();
      if (outcome.webhooks > 0) deps.onWork();
    },
  };
}

async function alreadyStopped(store: Store, organizationId: string, handset: string, ours: string) {
  const said = await store.messages.listForOrganization(
    organizationId,
    { direction: 'inbound', from: handset, to: ours, search: 'STOP' },
    50,
  );
  return said.some((m) => m.message.text?.trim().toUpperCase() === 'STOP');
}
