-- No query reads messages by organization alone (they are read by id, with the organization as a
-- check), so this index only cost every accepted message an extra B-tree insert. (008 already
-- dropped it in favour of the dashboard's (organization_id, received_at, id).)
DROP INDEX IF EXISTS messages_org;
