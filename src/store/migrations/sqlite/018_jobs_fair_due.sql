-- A claim that leaves out organizations at their share reads the other organizations' due jobs by
-- key range (src/store/sql/jobs.ts, claimOthers).
CREATE INDEX jobs_fair_due ON jobs (queue, fair_key, run_at) WHERE locked_by IS NULL AND failed_at IS NULL;
