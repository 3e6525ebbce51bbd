-- A carrier that delivers callbacks at least once (Bandwidth) repeats an inbound message: its copy is
-- found by (connector, carrier id) before the intake stores it again.
CREATE INDEX inbound_receipts_carrier_id ON inbound_receipts (connector, carrier_message_id);
