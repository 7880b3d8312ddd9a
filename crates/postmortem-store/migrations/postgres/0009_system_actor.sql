-- Who acted when no person did: the named system actor (`system:demo`, `system:import`,
-- `system:notify`...), so the audit log says which part of the system wrote, not just "the
-- system". Exactly one of `actor_id` and `actor_name` is set on events written from now on;
-- events written before this migration keep both empty for the system.
ALTER TABLE audit_events ADD COLUMN actor_name TEXT;
CREATE INDEX audit_events_actor_name ON audit_events (actor_name, id);
