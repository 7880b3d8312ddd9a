-- The initial schema. Instants are Unix milliseconds (UTC) with the writer's offset in
-- seconds beside them where the offset matters; dates are `YYYY-MM-DD` text.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity INTEGER NOT NULL,
    started_at INTEGER,
    started_offset INTEGER,
    sort_at INTEGER NOT NULL,
    user_visible INTEGER NOT NULL,
    customer_minutes INTEGER NOT NULL,
    customers_affected INTEGER NOT NULL,
    data_loss INTEGER NOT NULL,
    manual_intervention INTEGER NOT NULL,
    restricted INTEGER NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    pm_template TEXT NOT NULL,
    pm_status TEXT NOT NULL,
    pm_due_on TEXT
);
CREATE INDEX incidents_sort_at ON incidents (sort_at, id);
CREATE INDEX incidents_status ON incidents (pm_status, sort_at);
CREATE INDEX incidents_severity ON incidents (severity, sort_at, id);

CREATE TABLE incident_services (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (incident_id, name)
);
CREATE INDEX incident_services_name ON incident_services (name, incident_id);

CREATE TABLE incident_teams (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (incident_id, name)
);
CREATE INDEX incident_teams_name ON incident_teams (name, incident_id);

CREATE TABLE incident_members (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, user_id)
);
CREATE INDEX incident_members_user ON incident_members (user_id);

CREATE TABLE sections (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users(id),
    updated_at INTEGER,
    PRIMARY KEY (incident_id, name)
);

CREATE TABLE timeline_entries (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    at_offset INTEGER NOT NULL,
    body TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    actor TEXT,
    marker TEXT,
    perspective TEXT NOT NULL,
    source TEXT NOT NULL,
    source_url TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX timeline_entries_incident ON timeline_entries (incident_id, at);

CREATE TABLE factors (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    is_trigger INTEGER NOT NULL
);
CREATE INDEX factors_incident ON factors (incident_id);
CREATE INDEX factors_category ON factors (category);

CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    owner_id INTEGER REFERENCES users(id),
    team TEXT,
    due_on TEXT,
    priority TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    wont_do_reason TEXT,
    external_url TEXT,
    verification TEXT,
    created_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE INDEX actions_incident ON actions (incident_id);
CREATE INDEX actions_owner ON actions (owner_id, status);
CREATE INDEX actions_status_due ON actions (status, due_on);

CREATE TABLE action_factors (
    action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    factor_id INTEGER NOT NULL REFERENCES factors(id) ON DELETE CASCADE,
    PRIMARY KEY (action_id, factor_id)
);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    reviewer_id INTEGER NOT NULL REFERENCES users(id),
    decision TEXT NOT NULL,
    comment TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (incident_id, reviewer_id)
);

CREATE TABLE review_comments (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    resolved INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX review_comments_incident ON review_comments (incident_id);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    action TEXT NOT NULL,
    incident_id INTEGER,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_incident ON audit_events (incident_id, id);

-- The change feed: one row per committed change, in commit order. Writers take the next
-- number from `feed_counter` inside their transaction; the row lock this takes serialises
-- writers on PostgreSQL, so a follower reading `seq > last_seen` never skips a row that
-- commits late.
CREATE TABLE feed_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO feed_counter (id, seq) VALUES (1, 0);

CREATE TABLE change_feed (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    incident_id INTEGER,
    entity TEXT NOT NULL,
    op TEXT NOT NULL
);
