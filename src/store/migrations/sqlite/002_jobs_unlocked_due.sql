-- Lets idle workers find the next due unleased job without scanning the jobs table.
CREATE INDEX jobs_unlocked_due ON jobs (run_at) WHERE locked_by IS NULL;
