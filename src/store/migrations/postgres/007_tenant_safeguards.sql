-- Mirrors sqlite/007_tenant_safeguards.sql.
-- Key lifecycle: a displayable prefix of each key (never the secret) and when it was last used
-- (written at most once a minute per key).
ALTER TABLE api_keys ADD COLUMN prefix TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;
CREATE INDEX api_keys_org ON api_keys (organization_id, created_at);

-- Per-organization webhook signing keys. The key signing now is the newest one whose active_from
-- has passed; every key not yet retired is published. A rotation publishes the next key ahead of
-- its active_from and retires the old one at that moment. An organization's first key has the
-- organization's id as its id, so nodes creating it together agree on one.
CREATE TABLE organization_signing_keys (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  private_key_pem TEXT NOT NULL,
  public_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  active_from TEXT NOT NULL,
  retired_at TEXT
);
CREATE INDEX organization_signing_keys_org ON organization_signing_keys (organization_id, active_from);
-- The old gateway-wide key signs nothing any more; kept, it would only let a reader of the database
-- forge events for receivers still configured with it.
DROP TABLE signing_keys;

-- Fixed-window request counters shared by every node (per API key, per organization).
CREATE TABLE rate_limit_windows (
  bucket TEXT PRIMARY KEY,
  window_start BIGINT NOT NULL,
  used BIGINT NOT NULL
);

-- What each messaging profile spent per UTC day, in millionths of the rate table's currency.
CREATE TABLE profile_daily_spend (
  messaging_profile_id TEXT NOT NULL,
  day TEXT NOT NULL,
  amount_micros BIGINT NOT NULL,
  PRIMARY KEY (messaging_profile_id, day)
);

-- Idempotency-Key of POST /v2/messages/group_mms: written in the message's own transaction.
CREATE TABLE idempotency_keys (
  organization_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  message_id TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (organization_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
