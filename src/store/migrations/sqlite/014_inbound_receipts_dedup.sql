-- A carrier that delivers callbacks at least once (Bandwidth) repeats an inbound message. Its receipt
-- carries a key unique per carrier message, so a repeat, even one handled at the same moment by
-- another node, rolls back instead of storing the message twice. NULL for carriers without one.
ALTER TABLE inbound_receipts ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX inbound_receipts_dedup ON inbound_receipts (dedup_key);
