import { hash } from 'node:crypto';
import { apiError } from '../errors/api-error.ts';
import type { IdempotencyRecord } from '../store/sql/idempotency.ts';
import {
  type AcceptedMessage,
  type BeforeInsert,
  createGroupMms,
  type SendDeps,
} from './create-group-mms.ts';
import type { GroupMmsRequest } from './group-mms-schema.ts';
import { enforceDailySpendLimit } from './spend-limit.ts';

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted, so the same body in another key order hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

class KeyTaken extends Error {}

export interface SendResult {
  response: AcceptedMessage['response'];
  /** True when this is the stored answer to an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

function replay(found: IdempotencyRecord, requestHash: string, key: string): SendResult {
  if (found.request_hash !== requestHash) {
    throw apiError('10027', {
      parameter: 'Idempotency-Key',
      detail: `The Idempotency-Key ${key} was used in the last 24 hours with a different request body. Use a new key for a new message.`,
    });
  }
  return { response: JSON.parse(found.response), replayed: true };
}

/**
 * Accepts a group MMS with the daily spend limit, and with Stripe's `Idempotency-Key` semantics when
 * a key is given: the same key and body within 24 h get the first response back and no second
 * message; the same key with another body is refused (422, 10027). The key is claimed in the
 * message's own transaction, so concurrent duplicates on any node store one message: the loser sees
 * the key taken (on PostgreSQL after waiting for the winner's commit) and answers the winner's
 * response.
 */
export async function sendGroupMms(
  deps: SendDeps,
  organizationId: string,
  req: GroupMmsRequest,
  idempotency?: { key: string; body: unknown },
): Promise<SendResult> {
  if (!idempotency)
    return {
      response: await createGroupMms(deps, organizationId, req, enforceDailySpendLimit),
      replayed: false,
    };
  const { key } = idempotency;
  if (!KEY_SHAPE.test(key)) {
    throw apiError('10015', {
      parameter: 'Idempotency-Key',
      detail: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.',
    });
  }
  const requestHash = hash('sha256', canonicalJson(idempotency.body), 'hex');
  const now = deps.now?.() ?? new Date();
  const since = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString();
  const earlier = await deps.store.idempotency.find(organizationId, key, since);
  if (earlier) return replay(earlier, requestHash, key);

  const claimKey: BeforeInsert = async (tx, accepted) => {
    const claimed = await tx.idempotency.claim(
      {
        organization_id: organizationId,
        idempotency_key: key,
        request_hash: requestHash,
        message_id: accepted.message.id,
        response: JSON.stringify(accepted.response),
        created_at: accepted.message.received_at,
      },
      since,
    );
    if (!claimed) throw new KeyTaken();
    await enforceDailySpendLimit(tx, accepted);
  };
  try {
    return { response: await createGroupMms(deps, organizationId, req, claimKey), replayed: false };
  } catch (err) {
    if (!(err instanceof KeyTaken)) throw err;
    const winner = await deps.store.idempotency.find(organizationId, key, since);
    if (!winner) throw err;
    return replay(winner, requestHash, key);
  }
}
