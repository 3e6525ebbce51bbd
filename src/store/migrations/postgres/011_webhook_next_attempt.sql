-- When a pending webhook event's next delivery round is due (null once it is finished or before its first round).
ALTER TABLE webhook_events ADD COLUMN next_attempt_at TEXT;
