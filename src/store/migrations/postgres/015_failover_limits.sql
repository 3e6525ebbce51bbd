-- Circuit breaker of each connector, shared by every node: consecutive retryable submit failures,
-- and until when (ms since the epoch, on the database's clock) the connector is skipped. NULL: closed.
CREATE TABLE connector_breakers (
  connector TEXT COLLATE "C" PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,
  open_until BIGINT
);

-- Throughput limits as "next free slot" rows, one per key (a sender number, a connector): next_at
-- is the next slot to hand out, last_go the moment the latest submit of the key went out (ms, on the
-- database's clock).
CREATE TABLE throughput_slots (
  key TEXT PRIMARY KEY,
  next_at BIGINT NOT NULL,
  last_go BIGINT NOT NULL,
  -- When the last submit of this key really went (it is the one spacing the next).
  last_sent BIGINT NOT NULL DEFAULT 0
);

-- A message waiting in the queue for the slot it was given (the keys it holds, as JSON).
CREATE TABLE throughput_reservations (
  message_id TEXT COLLATE "C" PRIMARY KEY,
  keys TEXT NOT NULL,
  slot_at BIGINT NOT NULL
);
-- The line of one set of keys, in slot order (a message that comes late for its place finds it).
CREATE INDEX throughput_reservations_line ON throughput_reservations (keys, slot_at);

-- Messages per second per sender number, set by the operator for one number or for every number
-- of a messaging profile. subject: 'number:+E164' or 'profile:<id>'.
CREATE TABLE sender_limits (
  subject TEXT PRIMARY KEY,
  max_per_second DOUBLE PRECISION NOT NULL,
  updated_at TEXT NOT NULL
);

-- The connector that took (or refused) the message.
ALTER TABLE messages ADD COLUMN connector TEXT;

-- The per-organization queue cap counts an organization's waiting sends.
CREATE INDEX jobs_queue_fair_key ON jobs (queue, fair_key) WHERE failed_at IS NULL;
