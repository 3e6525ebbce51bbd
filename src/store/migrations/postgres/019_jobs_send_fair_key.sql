-- The queue cap counts an organization's waiting sends only (src/store/sql/throughput.ts,
-- queuedSends): its index no longer takes every job, six of which a message gives the webhook queue.
DROP INDEX jobs_queue_fair_key;
CREATE INDEX jobs_send_fair_key ON jobs (fair_key) WHERE queue = 'message.send' AND failed_at IS NULL;
