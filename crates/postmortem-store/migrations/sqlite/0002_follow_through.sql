-- Follow-through: when a post-mortem was published, the policy's decision with its reasons,
-- outgoing webhooks with their delivery log, and a record of reminders already sent.

ALTER TABLE incidents ADD COLUMN pm_published_at INTEGER;
ALTER TABLE incidents ADD COLUMN pm_decision TEXT;
ALTER TABLE incidents ADD COLUMN pm_reasons TEXT;

CREATE INDEX actions_team ON actions (team, status);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    status TEXT NOT NULL,
    response_code INTEGER,
    error TEXT,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER,
    delivered_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- A reminder is sent once per key (e.g. `action.overdue:42`), whatever the number of nodes.
CREATE TABLE reminders_sent (
    reminder_key TEXT PRIMARY KEY,
    sent_at INTEGER NOT NULL
);
