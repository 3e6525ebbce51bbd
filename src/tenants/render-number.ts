import type { PhoneNumber } from '../store/records.ts';
import type { PhoneNumberPayload } from './number-schema.ts';

/** Telnyx's `PhoneNumberWithMessagingSettings`. */
export function renderPhoneNumber(n: PhoneNumber, countryCode: string | null): PhoneNumberPayload {
  return {
    record_type: 'messaging_settings',
    id: n.id,
    phone_number: n.phone_number,
    organization_id: n.organization_id,
    messaging_profile_id: n.messaging_profile_id,
    country_code: countryCode ?? '',
    type: 'long-code',
    messaging_product: 'P2P',
    traffic_type: 'P2P',
    eligible_messaging_products: ['P2P'],
    features: {
      sms: { domestic_two_way: true, international_inbound: true, international_outbound: true },
      mms: { domestic_two_way: true, international_inbound: true, international_outbound: true },
    },
    tags: n.tags,
    created_at: n.created_at,
    updated_at: n.updated_at,
  };
}
