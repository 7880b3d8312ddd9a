-- Reading the audit log: admins page through it newest first, filtered by who acted, by the
-- kind of change and by time; each filter has an index ending in the id the pages are keyed
-- on. (Reading one incident's history uses `audit_events_incident` from 0001.)
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
