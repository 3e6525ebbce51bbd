-- No query reads messages by organization alone (they are read by id, with the organization as a
-- check), so this index only cost every accepted message an extra B-tree insert.
DROP INDEX messages_org;
