//! Domain model of the post-mortem system: incidents, post-mortems and their lifecycle,
//! timelines, contributing factors, action items, reviews and users.
//!
//! Everything here is pure: no I/O, no SQL, no HTTP, no files. Values are parsed once at the
//! edge into types that cannot hold invalid data ("parse, don't validate"), so the store and
//! the server never re-check a title or a severity.

#[macro_use]
mod macros;

pub mod action;
pub mod bundle;
pub mod characters;
pub mod error;
pub mod external;
pub mod factor;
pub mod figures;
pub mod ids;
pub mod incident;
pub mod insights;
pub mod lifecycle;
pub mod passage;
pub mod policy;
pub mod postmortem;
pub mod system;
pub mod team;
pub mod text;
pub mod timeline;
pub mod user;

pub use action::{ActionItem, ActionKind, ActionStatus, NewActionItem, Priority};
pub use bundle::{BundleAction, BundleReview, BundleSection, BundleTimelineEntry, IncidentBundle};
pub use characters::{check_line, check_prose};
pub use error::{Collector, ValidationError};
pub use external::{
    ExternalDraft, ExternalSpec, Publication, Redaction, RedactionKind, Replacement,
};
pub use factor::{ContributingFactor, FactorCategory, NewFactor};
pub use ids::{ActionId, CommentId, FactorId, IncidentId, ReviewId, TimelineEntryId, UserId};
pub use incident::{
    Impact, Incident, IncidentFacts, IncidentKind, NewIncident, Severity, dedup_names,
};
pub use lifecycle::{PostmortemStatus, TransitionError};
pub use passage::{Anchoring, PassageQuote};
pub use postmortem::{
    Missing, Postmortem, Review, ReviewComment, ReviewDecision, Revision, Section, SectionConfig,
    SectionName, Template, TemplateConfig, TemplateName, TemplateSection, Templates,
    missing_for_publication,
};
pub use system::SystemActor;
pub use team::{Team, TeamName};
pub use text::{Markdown, Name, Title, WebLink};
pub use timeline::{
    Marker, MarkerTimes, NewTimelineEntry, Perspective, Source, TimelineEntry, format_date,
    format_instant, parse_date, parse_instant, serialize_date_option,
};
pub use user::{DisplayName, Handle, Permission, Role, User};
