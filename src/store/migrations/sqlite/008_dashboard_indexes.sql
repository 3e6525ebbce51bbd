-- The message list (API extension and dashboard) pages newest first by (received_at, id) within an
-- organization, optionally by sender; recipients are searched by number. messages_org is a prefix of
-- the new index.
DROP INDEX messages_org;
CREATE INDEX messages_org_received ON messages (organization_id, received_at, id);
CREATE INDEX messages_org_from ON messages (organization_id, from_number, received_at, id);
CREATE INDEX message_recipients_phone ON message_recipients (phone_number, message_id);
-- GET /v2/webhook_deliveries pages an organization's events newest first.
CREATE INDEX webhook_events_org ON webhook_events (organization_id, created_at, id);
-- The headers each attempt was sent with (signature, timestamp), for the dashboard's attempt log.
ALTER TABLE webhook_attempts ADD COLUMN request_headers TEXT;
-- Dashboard sign-ins: only a SHA-256 of the session cookie is kept, with its CSRF token.
CREATE TABLE dashboard_sessions (
  id_hash TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
