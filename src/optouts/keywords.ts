import type { AutorespConfigRecord, AutorespOp } from '../store/sql/autoresp-configs.ts';

/** Telnyx's long-code keywords (developers.telnyx.com, advanced opt-in/out). */
const BUILT_IN: Record<string, AutorespOp> = {
  STOP: 'stop',
  STOPALL: 'stop',
  'STOP ALL': 'stop',
  UNSUBSCRIBE: 'stop',
  CANCEL: 'stop',
  END: 'stop',
  QUIT: 'stop',
  START: 'start',
  UNSTOP: 'start',
  HELP: 'info',
};

/** Keywords that keep their meaning whatever a profile's settings say. */
export const FIXED_KEYWORDS: Record<string, AutorespOp> = { START: 'start', STOP: 'stop', HELP: 'info' };

/** Telnyx's default replies; Telnyx documents none for HELP, so that one is the gateway's own. */
export const DEFAULT_REPLIES: Record<AutorespOp, string> = {
  stop: 'You have successfully been unsubscribed, you will not receive any more messages from this number. Reply START to re-subscribe.',
  start:
    'You have successfully been re-subscribed to this number. Reply STOP to unsubscribe. Msg&Data Rates May Apply.',
  info: 'Reply STOP to unsubscribe, START to re-subscribe. Msg&Data Rates May Apply.',
};

/** `autoresponse_type` of the `message.received` event for each op. */
export const AUTORESPONSE_TYPE: Record<AutorespOp, 'STOP' | 'START' | 'HELP'> = {
  stop: 'STOP',
  start: 'START',
  info: 'HELP',
};

/** A keyword as compared: upper case, surrounding whitespace dropped, inner runs as one space. */
export function normaliseKeyword(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toUpperCase();
}

/** The longest keyword a setting may name; longer texts are no keyword and cost no query. */
export const MAX_KEYWORD_LENGTH = 32;

/** Whether `text` is short enough, and not blank, to be a keyword at all. */
export function couldBeKeyword(text: string | null): text is string {
  if (text === null || text.length > MAX_KEYWORD_LENGTH * 4) return false;
  const keyword = normaliseKeyword(text);
  return keyword.length > 0 && keyword.length <= MAX_KEYWORD_LENGTH;
}

export interface KeywordMatch {
  op: AutorespOp;
  /** The keyword as matched (normalised). */
  keyword: string;
  /** The reply to send back. */
  reply: string;
}

/**
 * What a whole inbound text asks for, if it is a keyword: the profile's settings first (for the
 * sender's country before `*`, older before newer), then Telnyx's built-in keywords. A setting's
 * reply applies to the keywords it lists; a keyword no setting lists gets the default reply.
 */
export function matchKeyword(
  text: string | null,
  configs: AutorespConfigRecord[],
  senderCountry: string | null,
): KeywordMatch | null {
  if (!couldBeKeyword(text)) return null;
  const keyword = normaliseKeyword(text);
  const applicable = configs
    .filter((c) => c.country_code === '*' || c.country_code === senderCountry)
    .filter((c) => c.keywords.includes(keyword))
    .sort((a, b) => Number(a.country_code === '*') - Number(b.country_code === '*'));
  const config = applicable.find(
    (c) => FIXED_KEYWORDS[keyword] === undefined || c.op === FIXED_KEYWORDS[keyword],
  );
  const op = FIXED_KEYWORDS[keyword] ?? config?.op ?? BUILT_IN[keyword];
  if (!op) return null;
  return { op, keyword, reply: config?.resp_text ?? DEFAULT_REPLIES[op] };
}
