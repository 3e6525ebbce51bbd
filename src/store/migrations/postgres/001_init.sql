-- Mirrors sqlite/001_init.sql table for table and column for column. Columns that queries sort on
-- are COLLATE "C" so they order by code point, as SQLite's BINARY collation does, whatever the
-- database's default locale.

CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  key_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);

CREATE TABLE messaging_profiles (
  id TEXT COLLATE "C" PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  data TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX messaging_profiles_org ON messaging_profiles (organization_id, created_at);

CREATE TABLE phone_numbers (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  phone_number TEXT COLLATE "C" NOT NULL UNIQUE,
  messaging_profile_id TEXT REFERENCES messaging_profiles(id),
  tags TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX phone_numbers_profile ON phone_numbers (messaging_profile_id);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  messaging_profile_id TEXT NOT NULL,
  from_number TEXT NOT NULL,
  from_carrier TEXT,
  from_line_type TEXT,
  text TEXT,
  subject TEXT,
  media TEXT NOT NULL,
  webhook_url TEXT,
  webhook_failover_url TEXT,
  use_profile_webhooks INTEGER NOT NULL,
  encoding TEXT NOT NULL,
  parts INTEGER NOT NULL,
  num_chars INTEGER NOT NULL,
  tags TEXT NOT NULL,
  received_at TEXT COLLATE "C" NOT NULL,
  valid_until TEXT NOT NULL
);
CREATE INDEX messages_org ON messages (organization_id, received_at);

CREATE TABLE message_recipients (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id),
  position INTEGER NOT NULL,
  phone_number TEXT NOT NULL,
  carrier TEXT,
  line_type TEXT,
  status TEXT NOT NULL,
  carrier_message_id TEXT,
  cost TEXT,
  errors TEXT NOT NULL DEFAULT '[]',
  sent_at TEXT,
  completed_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX message_recipients_message ON message_recipients (message_id, position);
CREATE UNIQUE INDEX message_recipients_carrier_id ON message_recipients (carrier_message_id);

CREATE TABLE jobs (
  id BIGSERIAL PRIMARY KEY,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  run_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  locked_by TEXT,
  locked_until BIGINT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  unique_key TEXT UNIQUE
);
CREATE INDEX jobs_due ON jobs (run_at);

CREATE TABLE webhook_events (
  id TEXT COLLATE "C" PRIMARY KEY,
  organization_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  recipient_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  payload TEXT NOT NULL,
  urls TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  delivered_to TEXT,
  created_at TEXT COLLATE "C" NOT NULL,
  completed_at TEXT
);
CREATE INDEX webhook_events_message ON webhook_events (message_id, created_at);

CREATE TABLE webhook_attempts (
  id BIGSERIAL PRIMARY KEY,
  event_id TEXT NOT NULL REFERENCES webhook_events(id),
  attempt INTEGER NOT NULL,
  url TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status_code INTEGER,
  duration_ms INTEGER NOT NULL,
  response_body TEXT,
  error TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id, id);

CREATE TABLE simulator_submissions (
  idempotency_key TEXT NOT NULL,
  recipient_id TEXT NOT NULL,
  phone_number TEXT NOT NULL,
  carrier_message_id TEXT NOT NULL,
  times_seen INTEGER NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (idempotency_key, recipient_id)
);

CREATE TABLE signing_keys (
  id TEXT PRIMARY KEY,
  private_key_pem TEXT NOT NULL,
  public_key TEXT NOT NULL,
  created_at TEXT NOT NULL
);
