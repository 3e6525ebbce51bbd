-- Chaos mode (sandbox only): fault rules every node applies, and the faults they injected.
-- A rule with no organization is the operator's (CHAOS_RULES, the CLI) and applies to every
-- organization. `remaining` counts down "the next N" (decremented in the database, so exact across
-- workers and nodes); `probability` is drawn from a hash of `seed`, the rule and the thing's key.
CREATE TABLE chaos_rules (
  id TEXT PRIMARY KEY,
  organization_id TEXT,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  match TEXT NOT NULL,
  params TEXT NOT NULL,
  probability REAL,
  remaining INTEGER,
  seed TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- Every fault injected, shown on the message so an injected fault can be told from a real bug.
CREATE TABLE chaos_faults (
  id TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  message_id TEXT,
  recipient_id TEXT,
  webhook_event_id TEXT,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX chaos_faults_message ON chaos_faults (message_id, id);
