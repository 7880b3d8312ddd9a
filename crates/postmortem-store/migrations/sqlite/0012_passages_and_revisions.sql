-- Review comments on a passage, and revisions of published post-mortems.
--
-- A comment may quote the passage it is about, kept as the W3C Web Annotation model's
-- TextQuoteSelector keeps one: the quoted words (`quote_exact`) and a little of the text before
-- and after them (`quote_prefix`, `quote_suffix`), so the passage is found again by its words,
-- else by its surroundings, after the section changes. All three are NULL for a comment on the
-- whole section. `resolved_by` and `resolved_at` say who resolved it last (NULL while open).
--
-- `postmortem_revisions` holds each change to a published post-mortem: who, when, what changed
-- in their words, which sections (a JSON array of names), and the incident version it made.

ALTER TABLE review_comments ADD COLUMN quote_exact TEXT;
ALTER TABLE review_comments ADD COLUMN quote_prefix TEXT;
ALTER TABLE review_comments ADD COLUMN quote_suffix TEXT;
ALTER TABLE review_comments ADD COLUMN resolved_by INTEGER REFERENCES users(id);
ALTER TABLE review_comments ADD COLUMN resolved_at INTEGER;

CREATE TABLE postmortem_revisions (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    revised_by INTEGER REFERENCES users(id),
    revised_at INTEGER NOT NULL,
    note TEXT NOT NULL,
    sections TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX postmortem_revisions_incident ON postmortem_revisions (incident_id, id);
