import { apiError, apiErrors, telnyxError } from '../errors/api-error.ts';
import { uuidV7 } from '../ids/uuid-v7.ts';
import type { LocalRoom } from '../queue/worker-pool.ts';
import type { MessageRecord, MessagingProfile, RecipientRecord } from '../store/records.ts';
import type { MessageWithRecipients } from '../store/sql/messages.ts';
import type { Repos, Store } from '../store/store.ts';
import type { GroupMmsRequest } from './group-mms-schema.ts';
import type { RateTable } from './pricing.ts';
import { renderGroupMessage } from './render.ts';

export interface NumberInfo {
  carrier: string | null;
  line_type: string | null;
  country_code: string | null;
}

export interface SendDeps {
  store: Store;
  lookupNumber(e164: string): NumberInfo;
  analyzeText(text: string | null): { encoding: string; parts: number; num_chars: number };
  rates: RateTable | null;
  queueLifetimeMs: number;
  /** Told after a send job (of this organization, when known) is committed, so idle workers can start at once. */
  onQueued?(organizationId?: string): void;
  /**
   * This node's workers, when it runs them and they have room: the send job is inserted leased to
   * them and started after the commit with the rows just written (no NOTIFY, claim or read).
   */
  localWorkers?(queue: string, organizationId: string): LocalRoom | null;
  /**
   * How an accept commits (default `store.transaction`). On PostgreSQL concurrent accepts share
   * one (batchedTransactions): a commit each was most of the database's work per accepted message.
   */
  transaction?: Store['transaction'];
  now?(): Date;
}

export const SEND_QUEUE = 'message.send';

export interface AcceptedMessage {
  profile: MessagingProfile;
  message: MessageRecord;
  recipients: RecipientRecord[];
  response: ReturnType<typeof renderGroupMessage>;
}

/**
 * Runs in the message's own transaction before it is written (spend limit, idempotency key): a
 * throw refuses the message and nothing of it is stored.
 */
export type BeforeInsert = (tx: Repos, accepted: AcceptedMessage) => Promise<void>;

function allowedRegion(whitelist: string[], country: string | null): boolean {
  if (whitelist.includes('*')) return true;
  return country !== null && whitelist.includes(country);
}

/**
 * Accepts a validated group MMS for an organization: checks the sender and destinations against the
 * organization's numbers, its profile and the profile's opt-out block rules, then stores the
 * message, one row per recipient and the work row for the pipeline in one transaction. Returns the
 * Telnyx record.
 */
export async function createGroupMms(
  deps: SendDeps,
  organizationId: string,
  req: GroupMmsRequest,
  beforeInsert?: BeforeInsert,
) {
  // Its checks read in the same transaction as the writes: one commit per message on PostgreSQL
  // (each read outside a transaction is a commit of its own), and no opt-out slips in between.
  const room = deps.localWorkers?.(SEND_QUEUE, organizationId) ?? null;
  const transaction = deps.transaction ?? deps.store.transaction;
  let accepted: Awaited<ReturnType<typeof accept>>;
  try {
    accepted = await transaction((tx) => accept(tx, deps, organizationId, req, beforeInsert, room));
  } catch (err) {
    room?.cancel();
    throw err;
  }
  if (room) room.take(accepted.leased);
  else deps.onQueued?.(organizationId);
  return accepted.response;
}

async function accept(
  tx: Repos,
  deps: SendDeps,
  organizationId: string,
  req: GroupMmsRequest,
  beforeInsert: BeforeInsert | undefined,
  room: LocalRoom | null,
) {
  const profile = await tx.profiles.getBySenderNumber(organizationId, req.from);
  if (!profile) throw apiError('40305', { pointer: '/from' });
  if (!profile.data.enabled) {
    throw apiError('40312', {
      pointer: '/from',
      detail: `The specified messaging profile ${profile.id} is disabled.`,
    });
  }

  const destinations = req.to.map((phone) => ({ phone, info: deps.lookupNumber(phone) }));
  const regionErrors = destinations.flatMap(({ phone, info }, i) =>
    allowedRegion(profile.data.whitelisted_destinations, info.country_code)
      ? []
      : [
          telnyxError('40309', {
            pointer: `/to/${i}`,
            detail: info.country_code
              ? `The region ${info.country_code} for the destination ${phone} is not included in the messaging profile's whitelisted destinations.`
              : `The destination ${phone} is in an unknown region, which the messaging profile's whitelisted destinations do not include.`,
          }),
        ],
  );
  if (regionErrors.length > 0) throw apiErrors(regionErrors);

  // Numbers that texted STOP to any number of the profile: one primary-key lookup for all of them.
  const blocked = await tx.optOuts.blockedAmong(profile.id, req.to);
  if (blocked.size > 0) {
    throw apiErrors(
      req.to.flatMap((phone, i) =>
        blocked.has(phone)
          ? [
              telnyxError('40300', {
                pointer: `/to/${i}`,
                detail: `Messages cannot be sent from '${req.from}' to '${phone}' due to an existing block rule.`,
              }),
            ]
          : [],
      ),
    );
  }

  const now = deps.now?.() ?? new Date();
  const receivedAt = now.toISOString();
  const id = uuidV7(now.getTime());
  const from = deps.lookupNumber(req.from);
  const text = req.text ?? null;
  const message: MessageRecord = {
    id,
    organization_id: organizationId,
    messaging_profile_id: profile.id,
    from_number: req.from,
    from_carrier: from.carrier,
    from_line_type: from.line_type,
    text,
    subject: req.subject ?? null,
    media: (req.media_urls ?? []).map((url) => ({ url, content_type: null, sha256: null, size: null })),
    webhook_url: req.webhook_url ?? null,
    webhook_failover_url: req.webhook_failover_url ?? null,
    use_profile_webhooks: req.use_profile_webhooks ?? true,
    ...deps.analyzeText(text),
    tags: [],
    received_at: receivedAt,
    valid_until: new Date(now.getTime() + deps.queueLifetimeMs).toISOString(),
    direction: 'outbound',
    cc: [],
    connector: null,
  };
  const recipients: RecipientRecord[] = destinations.map(({ phone, info }, position) => ({
    id: uuidV7(now.getTime()),
    message_id: id,
    position,
    phone_number: phone,
    carrier: info.carrier,
    line_type: info.line_type,
    status: 'queued',
    carrier_message_id: null,
    cost: deps.rates?.priceFor(phone) ?? null,
    errors: [],
    sent_at: null,
    completed_at: null,
    updated_at: receivedAt,
  }));

  const response = renderGroupMessage(message, recipients, deps.rates);
  await beforeInsert?.(tx, { profile, message, recipients, response });
  await tx.messages.insert(message, recipients);
  const job = { queue: SEND_QUEUE, payload: { messageId: id }, fairKey: organizationId };
  if (!room) {
    await tx.jobs.enqueue(job);
    return { response, leased: [] };
  }
  const fresh: MessageWithRecipients = { message, recipients };
  const leased = await tx.jobs.enqueueMany([{ ...job, fresh }], {
    leasedTo: room.workerId,
    leaseMs: room.leaseMs,
  });
  return { response, leased };
}
