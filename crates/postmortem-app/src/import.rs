//! Importing whole incidents: the batch path the demo generator writes through (thousands of
//! incidents a transaction, at the store's bulk speed) under the same permission check and
//! audit as any other write.

use crate::{AppError, Service};
use postmortem_core::{IncidentBundle, IncidentId, Permission};

impl Service<'_> {
    /// Writes whole incidents in one transaction, each audited as imported by whoever acts
    /// (a person or a system actor), with `source` (a path, `api`) when given. The bundles
    /// are already domain values, parsed where they were made; the store refuses a bundle
    /// that names someone without an account, and then writes none of the batch.
    pub async fn import_bundles(
        &self,
        source: Option<&str>,
        bundles: &[IncidentBundle],
    ) -> Result<Vec<IncidentId>, AppError> {
        self.require(Permission::Write, "import incidents")?;
        if bundles.iter().any(|bundle| bundle.incident.restricted) {
            // Restricted incidents written by others are only for those who see everything.
            self.require(Permission::SeeEverything, "import restricted incidents")?;
        }
        Ok(self
            .app
            .store
            .import_bundles(self.actor(), source, bundles)
            .await?)
    }
}
