import type { AutorespConfigRecord } from '../store/sql/autoresp-configs.ts';
import type { OptOutRecord } from '../store/sql/optouts.ts';

/** The last four digits hidden, as Telnyx's `redaction_enabled` shows a number (+447766****). */
const redact = (phone: string) => `${phone.slice(0, Math.max(0, phone.length - 4))}****`;

export function renderOptOut(r: OptOutRecord, redacted: boolean) {
  return {
    from: r.from_number,
    to: redacted ? redact(r.to_number) : r.to_number,
    keyword: r.keyword,
    messaging_profile_id: r.messaging_profile_id,
    created_at: r.created_at,
  };
}

export function renderAutorespConfig(c: AutorespConfigRecord) {
  return {
    id: c.id,
    op: c.op,
    keywords: c.keywords,
    country_code: c.country_code,
    ...(c.resp_text === null ? {} : { resp_text: c.resp_text }),
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}
