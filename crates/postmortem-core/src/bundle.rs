//! A whole incident with everything in it, as one value: what the demo generator produces and
//! what Markdown import will produce, written to the store in one transaction.

use crate::{
    Handle, Markdown, NewActionItem, NewFactor, NewIncident, NewTimelineEntry, PostmortemStatus,
    ReviewDecision, SectionName,
};
use time::{Date, OffsetDateTime};

/// An incident with its post-mortem, timeline, factors, actions and reviews. People are named
/// by handle, so a bundle can be built without a database; the store resolves the handles.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentBundle {
    pub incident: NewIncident,
    /// Who recorded the incident.
    pub created_by: Handle,
    pub created_at: OffsetDateTime,
    pub status: PostmortemStatus,
    pub due_on: Option<Date>,
    /// When the post-mortem was first published, for published ones.
    pub published_at: Option<OffsetDateTime>,
    /// Sections in template order; each written by `updated_by`.
    pub sections: Vec<BundleSection>,
    pub timeline: Vec<BundleTimelineEntry>,
    pub factors: Vec<NewFactor>,
    pub actions: Vec<BundleAction>,
    pub reviews: Vec<BundleReview>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BundleSection {
    pub name: SectionName,
    pub body: Markdown,
    pub updated_by: Handle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BundleTimelineEntry {
    /// Who wrote the entry down.
    pub author: Handle,
    pub entry: NewTimelineEntry,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BundleAction {
    /// The owner, by handle; `item.owner` is ignored and resolved from this.
    pub owner: Option<Handle>,
    /// Indexes into the bundle's `factors` that this action addresses; `item.factor_ids` is
    /// ignored and resolved from these.
    pub factor_indexes: Vec<usize>,
    pub item: NewActionItem,
    /// When it was completed, for `done` and `wont_do` items.
    pub completed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BundleReview {
    pub reviewer: Handle,
    pub decision: ReviewDecision,
    pub comment: Option<String>,
}
