-- Claims read only unleased jobs (jobs_unlocked_due); leases left behind by a dead worker are found
-- through their expiry and handed back first. Nothing orders all jobs by run_at any more.
CREATE INDEX jobs_lease_expiry ON jobs (locked_until) WHERE locked_by IS NOT NULL;
DROP INDEX jobs_due;
