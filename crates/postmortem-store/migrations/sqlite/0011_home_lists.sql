-- The home page's lists, read at every visit: what was published lately walks the published
-- incidents newest first and stops at the tenth the person may read, instead of testing and
-- sorting every published incident; drafts are found from the person's own section edits,
-- and the incidents of someone in no team from those they recorded.
CREATE INDEX incidents_published ON incidents (pm_status, pm_published_at, id);
CREATE INDEX incidents_status_updated ON incidents (pm_status, updated_at, id);
CREATE INDEX incidents_created_by ON incidents (created_by, pm_status);
CREATE INDEX sections_updated_by ON sections (updated_by, incident_id);
