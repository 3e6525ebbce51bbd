import { getCountries } from 'libphonenumber-js';
import type { MessagingProfile } from '../store/records.ts';
import type { MessagingProfilePayload } from './profile-schema.ts';

/** Telnyx's `MessagingProfile`. No `v1_secret`: there is no v1 API here, and the schema has no null for it. */
export function renderProfile(p: MessagingProfile): MessagingProfilePayload {
  return {
    record_type: 'messaging_profile',
    id: p.id,
    organization_id: p.organization_id,
    ...(p.data as Omit<
      MessagingProfilePayload,
      'record_type' | 'id' | 'organization_id' | 'created_at' | 'updated_at'
    >),
    whitelisted_destinations: renderWhitelist(p.data.whitelisted_destinations),
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

const EVERY_COUNTRY: readonly string[] = [...getCountries()].sort();

/** `*` (anywhere, which the gateway accepts) is shown as every country: Telnyx's schema only has codes. */
function renderWhitelist(list: string[]): string[] {
  return list.includes('*') ? [...EVERY_COUNTRY] : list;
}
