import type { RecipientStatus } from '../messages/status.ts';

export interface Organization {
  id: string;
  name: string;
  created_at: string;
}

export interface ApiKey {
  id: string;
  organization_id: string;
  key_hash: string;
  /** The first characters of the key, enough to recognise it; null for keys issued before 007. */
  prefix: string | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** A messaging profile's Telnyx fields, kept as one document. */
export type ProfileData = Record<string, unknown> & {
  name: string;
  enabled: boolean;
  webhook_url: string | null;
  webhook_failover_url: string | null;
  whitelisted_destinations: string[];
};

export interface MessagingProfile {
  id: string;
  organization_id: string;
  data: ProfileData;
  created_at: string;
  updated_at: string;
}

export interface PhoneNumber {
  id: string;
  organization_id: string;
  phone_number: string;
  messaging_profile_id: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface MediaItem {
  url: string;
  content_type: string | null;
  sha256: string | null;
  size: number | null;
}

export interface TelnyxErrorRecord {
  code: string;
  title: string;
  detail?: string;
}

export interface Money {
  amount: string;
  currency: string;
}

export interface MessageRecord {
  id: string;
  organization_id: string;
  messaging_profile_id: string;
  from_number: string;
  from_carrier: string | null;
  from_line_type: string | null;
  text: string | null;
  subject: string | null;
  media: MediaItem[];
  webhook_url: string | null;
  webhook_failover_url: string | null;
  use_profile_webhooks: boolean;
  encoding: string;
  parts: number;
  num_chars: number;
  tags: string[];
  received_at: string;
  valid_until: string;
  /** Absent on records built before it existed: `outbound`. */
  direction?: MessageDirection;
  /** Inbound only: the other addressees of a group message (To and Cc, never Bcc). */
  cc?: string[];
  /** The connector that took (or refused) it; null while none has. */
  connector?: string | null;
}

export type MessageDirection = 'outbound' | 'inbound';

export interface RecipientRecord {
  id: string;
  message_id: string;
  position: number;
  phone_number: string;
  carrier: string | null;
  line_type: string | null;
  status: RecipientStatus;
  carrier_message_id: string | null;
  cost: Money | null;
  errors: TelnyxErrorRecord[];
  sent_at: string | null;
  completed_at: string | null;
  updated_at: string;
}

export interface JobRecord {
  id: number;
  queue: string;
  payload: Record<string, unknown>;
  run_at: number;
  /** Runs started (claims); informational. */
  attempts: number;
  /** Retries the handler decided on its own schedule (carrier, unmatched report, webhook round). */
  retries: number;
  /** Throws, timeouts and leases that ran out, counted against the crash schedule. */
  crashes: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  /** Set when the job was given up: it is kept for the operator and never runs again. */
  failed_at: number | null;
  /** Whose work it is (the organization): one key may not hold every slot of a queue. */
  fair_key: string | null;
  /** Not stored: the `fresh` of the NewJob this worker inserted leased to itself (see NewJob). */
  fresh?: unknown;
}

export interface NewJob {
  queue: string;
  payload: Record<string, unknown>;
  /** When it is due, on the enqueuer's clock (see `jobs.enqueue`); default now. */
  runAt?: number;
  /** Or: due this long after now on the store's clock. */
  delayMs?: number;
  /** At most one job with this key exists at a time. */
  uniqueKey?: string;
  /** The organization whose work it is, for fairness between organizations. */
  fairKey?: string;
  /**
   * Not stored: the rows that the transaction inserting the job wrote for it (a webhook event, a
   * message and its recipients). A worker that inserts the job leased to itself runs it with these
   * instead of reading them back; a job claimed from the database has none. Only for rows that
   * nothing but this job changes before it runs, or whose changes it guards against anyway.
   */
  fresh?: unknown;
}

export interface WebhookUrlState {
  url: string;
  gone: boolean;
}

export interface WebhookEventRecord {
  id: string;
  organization_id: string;
  message_id: string;
  recipient_id: string;
  event_type: string;
  occurred_at: string;
  payload: Record<string, unknown>;
  urls: WebhookUrlState[];
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  delivered_to: string | null;
  created_at: string;
  completed_at: string | null;
  /** When the next round of a pending event is due, after a failed round. */
  next_attempt_at?: string | null;
}

export interface WebhookAttemptRecord {
  id: number;
  event_id: string;
  attempt: number;
  url: string;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  response_body: string | null;
  error: string | null;
  created_at: string;
  /** The headers the attempt was sent with (signature, timestamp); absent on attempts stored before. */
  request_headers?: Record<string, string> | null;
}

export interface Page {
  number: number;
  size: number;
}

export interface PageResult<T> {
  items: T[];
  total: number;
}

/** Filters of `GET /v2/webhook_deliveries` (Telnyx's `filter[...]`). */
export interface WebhookDeliveryFilter {
  status?: 'delivered' | 'failed';
  eventTypes?: string[];
  /** Text the event (its JSON) contains. */
  webhookContains?: string;
  /** Text an attempt (URL, response, error) contains. */
  attemptsContains?: string;
  startedGte?: string;
  startedLte?: string;
  finishedGte?: string;
  finishedLte?: string;
}

/** Filters of the message list (`GET /v2/messages`, the dashboard). */
export interface MessageListFilter {
  direction?: 'outbound' | 'inbound';
  /** Messages with at least one recipient in this status. */
  status?: string;
  from?: string;
  /** Messages with this number among their recipients. */
  to?: string;
  receivedGte?: string;
  receivedLte?: string;
  /** Text or subject contains. */
  search?: string;
}

/** Keyset position in a newest-first list: the last row of the previous page. */
export interface ListCursor {
  received_at: string;
  id: string;
}

/** A named carrier connector and its settings (secrets included: never render this as it is). */
export interface ConnectorRecord {
  name: string;
  type: string;
  settings: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** A messaging profile's ordered list of connector names. */
export interface RouteRecord {
  messaging_profile_id: string;
  connectors: string[];
  updated_at: string;
}

/** Something a carrier delivered to us (an inbound message, a read reply), kept as received. */
export interface InboundReceiptRecord {
  id: string;
  connector: string;
  kind: string;
  carrier_message_id: string | null;
  payload: Record<string, unknown>;
  /** The inbound messages made from it, one per receiving organization; empty when none. */
  message_ids: string[];
  routed: boolean;
  received_at: string;
  /** Unique per carrier message when the carrier may repeat it (Bandwidth); null otherwise. */
  dedup_key?: string | null;
}
