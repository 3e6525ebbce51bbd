-- Carrier connectors as configuration shared by every node: one row per named connector, its
-- settings (secrets included) as one JSON document. The simulator is there from the start.
CREATE TABLE connectors (
  name TEXT COLLATE "C" PRIMARY KEY,
  type TEXT NOT NULL,
  settings TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO connectors (name, type, settings, created_at, updated_at)
VALUES ('simulator', 'simulator', '{}', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z');

-- A messaging profile's route: an ordered JSON list of connector names (first = used now; the rest
-- are the failover order).
CREATE TABLE profile_routes (
  messaging_profile_id TEXT PRIMARY KEY,
  connectors TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Received messages live in `messages` too; `cc` holds the other addressees of an inbound group.
ALTER TABLE messages ADD COLUMN direction TEXT NOT NULL DEFAULT 'outbound';
ALTER TABLE messages ADD COLUMN cc TEXT NOT NULL DEFAULT '[]';

-- Everything a carrier delivered to us (inbound messages, read replies), as received and normalised,
-- with the messages made from it; those that reached no organization stay here for the operator.
CREATE TABLE inbound_receipts (
  id TEXT PRIMARY KEY,
  connector TEXT NOT NULL,
  kind TEXT NOT NULL,
  carrier_message_id TEXT,
  payload TEXT NOT NULL,
  message_ids TEXT NOT NULL,
  routed INTEGER NOT NULL,
  received_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX inbound_receipts_received ON inbound_receipts (received_at);

-- An MM7 MessageID is shared by every recipient of one submission: unique per (id, number).
DROP INDEX message_recipients_carrier_id;
CREATE UNIQUE INDEX message_recipients_carrier_id ON message_recipients (carrier_message_id, phone_number);
