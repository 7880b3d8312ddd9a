//! Incidents as Markdown files: the export format (YAML front matter with every fact, `##`
//! sections in template order, then the timeline, the factors and the action items as lists),
//! its parser back into an import value, the mapping of post-mortems written elsewhere onto
//! the same value, and the external (customer-facing) rendering.
//!
//! Pure functions over `postmortem-core` types: no files, no store, no clock. The binary and
//! the app layer read and write files and resolve people; this crate only turns text into
//! values and back, so that `render(parse(render(x))) == render(x)` byte for byte.

mod changes;
mod external;
mod foreign;
mod html;
mod parse;
pub mod passages;
mod render;
mod syntax;
mod when;

pub use changes::{Change, changes};
pub use external::{External, Person, external};
pub use foreign::{Mapping, MappingNote};
pub use html::{MAX_HTML_DEPTH, is_html, to_markdown as html_to_markdown};
pub use parse::{Parsed, parse};
pub use postmortem_core::{ExternalSpec, Redaction, RedactionKind, Replacement};
pub use render::{file_name, render};

use postmortem_core::{Handle, IncidentBundle, IncidentId, Templates, policy::Requirement};
use time::OffsetDateTime;

/// What reading a file needs besides its text: the configured templates (headings to section
/// names), who imports it (a post-mortem written elsewhere names nobody we know, so what it
/// records is theirs) and when (the instant of what has no date of its own).
#[derive(Debug, Clone, Copy)]
pub struct ImportContext<'a> {
    pub templates: &'a Templates,
    pub importer: &'a Handle,
    pub now: OffsetDateTime,
}

/// A whole incident as a Markdown file holds it: the bundle the store imports, plus the facts
/// that live beside it (its id, the policy's decision, the people named on it) and where the
/// file came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The incident's id when the file was exported by this system; imports match on it.
    pub id: Option<IncidentId>,
    /// The incident's version when it was exported (its audit trail's count of writes):
    /// importing the file again refuses to overwrite what changed since.
    pub version: Option<i64>,
    pub bundle: IncidentBundle,
    /// What the post-mortem policy decided, and why, when the file says.
    pub policy: Option<PolicyNote>,
    /// People named on a restricted incident, by handle.
    pub members: Vec<Handle>,
    /// Where an imported post-mortem was first written (a path or a link), kept with it.
    pub imported_from: Option<String>,
}

/// The policy's decision about a post-mortem, as a file carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyNote {
    pub decision: Requirement,
    pub reasons: Vec<String>,
}

impl Document {
    /// The incident's slug, from its title: what file names and imports without an id use.
    pub fn slug(&self) -> String {
        slug_of(self.bundle.incident.title.as_str())
    }
}

/// The slug of a title: lowercase ASCII words joined by `-`, at most 80 characters, never
/// empty.
pub fn slug_of(title: &str) -> String {
    let slug = slug::slugify(title);
    let mut cut: String = slug.chars().take(80).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    if cut.is_empty() {
        "incident".to_owned()
    } else {
        cut
    }
}

/// The largest file import reads: far above any real post-mortem, small enough that a hostile
/// file ends in a clear error at once.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Why a file could not be read as an incident: where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {reason}")]
pub struct ParseError {
    /// The file, as the caller named it (`-` for standard input).
    pub path: String,
    /// 1-based line of the problem; 1 for problems of the whole file.
    pub line: usize,
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(path: &str, line: usize, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            line: line.max(1),
            reason: reason.into(),
        }
    }
}

/// Checks the bytes of a file before parsing: size and UTF-8, with the line of the first
/// invalid byte.
pub fn decode<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, ParseError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ParseError::new(
            path,
            1,
            format!(
                "the file is {} bytes; a post-mortem file may be at most {MAX_FILE_BYTES} bytes (split it, or move attachments out of it)",
                bytes.len()
            ),
        ));
    }
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        ParseError::new(
            path,
            line,
            "the file is not UTF-8 text; save it as UTF-8 and import it again",
        )
    })
}
