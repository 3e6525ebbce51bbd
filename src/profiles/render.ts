import type { MessagingProfile } from '../store/records.ts';

export function renderProfile(p: MessagingProfile) {
  return {
    record_type: 'messaging_profile',
    id: p.id,
    organization_id: p.organization_id,
    ...p.data,
    v1_secret: null,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}
