-- Mirrors sqlite/009_unused_indexes.sql.
-- No query reads messages by organization alone (they are read by id, with the organization as a
-- check), so this index only cost every accepted message an extra B-tree insert. (008 already
-- dropped it in favour of the dashboard's (organization_id, received_at, id).)
DROP INDEX IF EXISTS messages_org;

-- webhook_attempts.event_id had the database's default collation while the webhook_events.id it
-- joins on is COLLATE "C": the join could not use webhook_attempts_event and read every attempt of
-- every message for the deliveries view. Same collation as the key it references (the index is
-- rebuilt with the column).
ALTER TABLE webhook_attempts ALTER COLUMN event_id TYPE TEXT COLLATE "C";
