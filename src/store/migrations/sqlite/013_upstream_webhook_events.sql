-- The ids of the upstream webhooks (Telnyx-compatible connectors) already applied, written in the
-- transaction that applies one: the same event id again is a replay and changes nothing.
CREATE TABLE upstream_webhook_events (
  connector TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (connector, event_id)
);
