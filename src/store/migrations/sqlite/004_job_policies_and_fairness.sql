-- Each retry policy counts on its own: retries the handler decided (carrier, unmatched report,
-- webhook round) and crashes (a throw, a timeout, a lease that ran out). One can no longer use up the
-- other's schedule.
ALTER TABLE jobs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
-- A job given up is kept, with its last error, for the operator; it is never claimed again.
ALTER TABLE jobs ADD COLUMN failed_at INTEGER;
-- Whose work it is (the organization), so that one tenant cannot hold every slot of a queue.
ALTER TABLE jobs ADD COLUMN fair_key TEXT;
-- Workers claim per queue, so each queue has its own capacity.
DROP INDEX jobs_unlocked_due;
CREATE INDEX jobs_unlocked_due ON jobs (queue, run_at) WHERE locked_by IS NULL AND failed_at IS NULL;
CREATE INDEX jobs_failed ON jobs (failed_at) WHERE failed_at IS NOT NULL;
