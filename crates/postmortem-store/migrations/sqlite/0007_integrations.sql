-- Integrations: alerting and deploy tools that send webhooks to `/hooks/{kind}/{id}`.
--
-- Each integration acts as a person of its own (`user_id`, no password, so nobody signs in as
-- it), so the entries it writes and the audit log name it. `credential` is the SHA-256 of the
-- bearer secret we issued, or, for PagerDuty, the signing secret PagerDuty issued (an HMAC
-- check needs the secret itself). `hook_deliveries` keeps every body received, applied or
-- refused, for a configurable time, so admins can read and replay it.
--
-- `timeline_sources` makes "once per alert fingerprint and state" (and "importing again adds
-- nothing") a unique key instead of a check-then-insert race: a writer inserts the key first
-- and writes the entry only when the insert took. The key outlives a removed entry, so a
-- repeated delivery does not bring back what a person removed.
--
-- `deploys` holds the changes deploy tools report, once per deploy key.

CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    services TEXT NOT NULL,
    credential TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE hook_deliveries (
    id INTEGER PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    entries_added INTEGER NOT NULL,
    replay_of INTEGER
);
CREATE INDEX hook_deliveries_integration ON hook_deliveries (integration_id, id);
CREATE INDEX hook_deliveries_received ON hook_deliveries (received_at);

CREATE TABLE timeline_sources (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    source_key TEXT NOT NULL,
    entry_id INTEGER,
    PRIMARY KEY (incident_id, source_key)
);

CREATE TABLE deploys (
    id INTEGER PRIMARY KEY,
    integration_id INTEGER REFERENCES integrations(id) ON DELETE SET NULL,
    deploy_key TEXT NOT NULL UNIQUE,
    service TEXT NOT NULL,
    version TEXT NOT NULL,
    at INTEGER NOT NULL,
    at_offset INTEGER NOT NULL,
    deployed_by TEXT,
    link TEXT,
    received_at INTEGER NOT NULL
);
CREATE INDEX deploys_service ON deploys (service, at);
