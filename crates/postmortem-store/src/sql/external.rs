//! The external version: each incident's draft and its publication.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_external {
    ($store:ident, $db:ty, $backend:expr) => {
        fn json_column<T: serde::de::DeserializeOwned>(row: &DbRow, column: &str) -> Result<T> {
            serde_json::from_str(&row.try_get::<String, _>(column)?)
                .map_err(|e| StoreError::Corrupt(format!("external draft {column}: {e}")))
        }

        fn external_draft_from_row(row: &DbRow) -> Result<ExternalDraft> {
            Ok(ExternalDraft {
                incident: IncidentId::new(row.try_get("incident_id")?),
                spec: json_column(row, "spec")?,
                title: row.try_get("title")?,
                markdown: row.try_get("markdown")?,
                redactions: json_column(row, "redactions")?,
                version: row.try_get("version")?,
                updated_by: UserId::new(row.try_get("updated_by")?),
                updated_at: from_ms(row.try_get("updated_at")?)?,
            })
        }

        fn publication_from_row(row: &DbRow) -> Result<Publication> {
            Ok(Publication {
                incident: IncidentId::new(row.try_get("incident_id")?),
                slug: row.try_get("slug")?,
                title: row.try_get("title")?,
                markdown: row.try_get("markdown")?,
                published_by: UserId::new(row.try_get("published_by")?),
                published_at: from_ms(row.try_get("published_at")?)?,
            })
        }

        impl $store {
            async fn external_draft(&self, incident: IncidentId) -> Result<Option<ExternalDraft>> {
                sqlx::query("SELECT * FROM external_drafts WHERE incident_id = $1")
                    .bind(incident.get())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(external_draft_from_row)
                    .transpose()
            }

            async fn save_external_draft(&self, actor: Actor, draft: NewExternalDraft) -> Result<ExternalDraft> {
                let now = self.clock.now();
                let author = actor.person().ok_or(StoreError::NotFound("user"))?;
                let json = |value: serde_json::Result<String>| value.map_err(|e| StoreError::Corrupt(e.to_string()));
                let spec = json(serde_json::to_string(&draft.spec))?;
                let redactions = json(serde_json::to_string(&draft.redactions))?;
                let mut tx = self.writer().begin().await?;
                let before = sqlx::query("SELECT * FROM external_drafts WHERE incident_id = $1")
                    .bind(draft.incident.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(external_draft_from_row)
                    .transpose()?;
                let current = before.as_ref().map_or(0, |d| d.version);
                if let Some(expected) = draft.expected_version
                    && expected != current
                {
                    return Err(StoreError::VersionConflict { expected, current });
                }
                // The UPDATE's row lock (PostgreSQL) or the one writer (SQLite) makes the
                // compare and the write one step: a racing edit of the same version finds no row.
                let written = sqlx::query(
                    "INSERT INTO external_drafts (incident_id, spec, title, markdown, redactions, version, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (incident_id) DO UPDATE SET spec = excluded.spec, title = excluded.title, markdown = excluded.markdown, \
                     redactions = excluded.redactions, version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at \
                     WHERE external_drafts.version = $9 RETURNING *",
                )
                .bind(draft.incident.get())
                .bind(&spec)
                .bind(&draft.title)
                .bind(&draft.markdown)
                .bind(&redactions)
                .bind(current + 1)
                .bind(author.get())
                .bind(to_ms(now))
                .bind(current)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::VersionConflict { expected: current, current: current + 1 })?;
                let saved = external_draft_from_row(&written)?;
                let details = serde_json::json!({"before": before, "after": saved});
                let action = if before.is_some() { "external.draft.update" } else { "external.draft.create" };
                Self::record(&mut tx, now, actor, action, Some(draft.incident), "external", "update", details).await?;
                tx.commit().await?;
                Ok(saved)
            }

            async fn publication(&self, incident: IncidentId) -> Result<Option<Publication>> {
                sqlx::query("SELECT * FROM external_publications WHERE incident_id = $1")
                    .bind(incident.get())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(publication_from_row)
                    .transpose()
            }

            async fn publication_by_slug(&self, slug: &str) -> Result<Option<Publication>> {
                sqlx::query("SELECT * FROM external_publications WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(publication_from_row)
                    .transpose()
            }

            async fn publish_external(&self, actor: Actor, publication: NewPublication) -> Result<Publication> {
                let now = self.clock.now();
                let author = actor.person().ok_or(StoreError::NotFound("user"))?;
                let mut tx = self.writer().begin().await?;
                let before = sqlx::query("SELECT * FROM external_publications WHERE incident_id = $1")
                    .bind(publication.incident.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(publication_from_row)
                    .transpose()?;
                let written = sqlx::query(
                    "INSERT INTO external_publications (incident_id, slug, title, markdown, published_by, published_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (incident_id) DO UPDATE SET slug = excluded.slug, title = excluded.title, markdown = excluded.markdown, \
                     published_by = excluded.published_by, published_at = excluded.published_at RETURNING *",
                )
                .bind(publication.incident.get())
                .bind(&publication.slug)
                .bind(&publication.title)
                .bind(&publication.markdown)
                .bind(author.get())
                .bind(to_ms(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| StoreError::or_duplicate(e, || format!("another incident is published at `{}`", publication.slug)))?;
                let saved = publication_from_row(&written)?;
                let details = serde_json::json!({"before": before, "after": saved});
                Self::record(&mut tx, now, actor, "external.publish", Some(publication.incident), "external", "update", details).await?;
                tx.commit().await?;
                Ok(saved)
            }

            async fn unpublish_external(&self, actor: Actor, incident: IncidentId) -> Result<Publication> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let before = sqlx::query("DELETE FROM external_publications WHERE incident_id = $1 RETURNING *")
                    .bind(incident.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(publication_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound("publication"))?;
                let details = serde_json::json!({"before": before, "after": null});
                Self::record(&mut tx, now, actor, "external.unpublish", Some(incident), "external", "delete", details).await?;
                tx.commit().await?;
                Ok(before)
            }
        }
    };
}
