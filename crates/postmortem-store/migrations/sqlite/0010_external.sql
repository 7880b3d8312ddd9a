-- The external (customer-facing) version of a review.
--
-- `external_drafts` holds one draft per incident: what the author asked (`spec`: the sections,
-- the organisation's domains, their changed and added replacements, as JSON), and the title,
-- text and redactions made from it when it was last written (JSON), so the author reviews
-- exactly what would be published. `version` is bumped by every write: an edit names the
-- version it started from, so two authors never silently overwrite each other.
--
-- `external_publications` holds what was published, read by anyone at
-- `/public/incidents/{slug}`: a copy of the draft's text, never re-rendered from the internal
-- record, so nothing the author did not see reaches the public.

CREATE TABLE external_drafts (
    incident_id BIGINT PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    spec TEXT NOT NULL,
    title TEXT NOT NULL,
    markdown TEXT NOT NULL,
    redactions TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_by BIGINT NOT NULL REFERENCES users(id),
    updated_at BIGINT NOT NULL
);

CREATE TABLE external_publications (
    incident_id BIGINT PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    markdown TEXT NOT NULL,
    published_by BIGINT NOT NULL REFERENCES users(id),
    published_at BIGINT NOT NULL
);
