import type { ChaosFaultRecord } from '../store/sql/chaos.ts';
import type { Repos } from '../store/store.ts';

/** A fault as the API shows it (`chaos` on a message; the faults route). */
export function renderChaosFault(f: ChaosFaultRecord) {
  return {
    record_type: 'chaos_fault',
    rule: f.rule_id,
    kind: f.kind,
    at: f.created_at,
    message_id: f.recipient_id ?? f.message_id,
    group_message_id: f.message_id,
    webhook_event_id: f.webhook_event_id,
    ...(JSON.parse(f.detail) as Record<string, unknown>),
  };
}

/**
 * The `chaos` extension field of a message view: the faults injected into it (for one recipient's
 * view, that recipient's and the whole message's). Undefined when there were none, so a message
 * chaos never touched looks exactly as Telnyx's does.
 */
export async function chaosFaultsOf(
  repos: Pick<Repos, 'chaos'>,
  messageId: string,
  recipientId?: string,
): Promise<Array<ReturnType<typeof renderChaosFault>> | undefined> {
  const faults = (await repos.chaos.faultsForMessage(messageId)).filter(
    (f) => recipientId === undefined || f.recipient_id === null || f.recipient_id === recipientId,
  );
  return faults.length > 0 ? faults.map(renderChaosFault) : undefined;
}
