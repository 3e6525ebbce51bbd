-- Mirrors sqlite/012_unused_indexes_2.sql.
-- No statement reads idempotency keys by age: a key is found and its expired record deleted through
-- the primary key (organization_id, idempotency_key), and nothing sweeps expired keys. The index only
-- cost every accepted message with an Idempotency-Key an extra B-tree insert. A sweep (DELETE ...
-- WHERE created_at <= ?) would want it back.
DROP INDEX IF EXISTS idempotency_keys_created;

-- An organization's numbers are listed (GET /v2/phone_numbers/messaging, the dashboard) and counted
-- by organization, in number order: without this both read the whole table.
CREATE INDEX phone_numbers_org ON phone_numbers (organization_id, phone_number);
