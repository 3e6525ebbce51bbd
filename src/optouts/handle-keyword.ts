import { parseE164 } from '../numbers/e164.ts';
import type { Repos } from '../store/store.ts';
import { type AutoReplyDeps, queueAutoReply } from './auto-reply.ts';
import { AUTORESPONSE_TYPE, couldBeKeyword, matchKeyword } from './keywords.ts';

export interface KeywordMessage {
  organizationId: string;
  messagingProfileId: string;
  /** Our number that received it (the first, when several of the profile's did). */
  receivingNumber: string;
  sender: string;
  text: string | null;
  now: Date;
}

export interface KeywordOutcome {
  autoresponseType: 'STOP' | 'START' | 'HELP';
  replyMessageId: string;
}

/**
 * Acts on an inbound message whose whole text is an opt-out, opt-in or help keyword, in the
 * intake's transaction: STOP and its kin record a block rule for the sender on the profile, START
 * and UNSTOP remove it, and each queues the reply from the receiving number. Any other text, or a
 * sender that is no phone number (nothing could be sent back to it), is left alone.
 */
export async function handleKeyword(
  tx: Repos,
  deps: AutoReplyDeps,
  m: KeywordMessage,
): Promise<KeywordOutcome | null> {
  if (!couldBeKeyword(m.text)) return null;
  const sender = parseE164(m.sender);
  if (!sender) return null;
  const configs = await tx.autorespConfigs.listForProfile(m.organizationId, m.messagingProfileId);
  const match = matchKeyword(m.text, configs, sender.country);
  if (!match) return null;
  if (match.op === 'stop') {
    await tx.optOuts.add({
      messaging_profile_id: m.messagingProfileId,
      to_number: m.sender,
      organization_id: m.organizationId,
      from_number: m.receivingNumber,
      keyword: match.keyword,
      created_at: m.now.toISOString(),
    });
  } else if (match.op === 'start') {
    await tx.optOuts.remove(m.messagingProfileId, m.sender);
  }
  const replyMessageId = await queueAutoReply(tx, deps, {
    organizationId: m.organizationId,
    messagingProfileId: m.messagingProfileId,
    from: m.receivingNumber,
    to: m.sender,
    text: match.reply,
    now: m.now,
  });
  return { autoresponseType: AUTORESPONSE_TYPE[match.op], replyMessageId };
}
