//! The OpenAPI schemas of the closed vocabularies and text rules the inputs are parsed with,
//! built from the same lists the parsers use (`ALL`), so the document cannot name a value
//! the server refuses, and a client or fuzzer that follows it sends values that reach the
//! logic instead of the validation errors.

use postmortem_core::insights::Chart;
use postmortem_core::{FactorCategory, IncidentKind, Perspective, PostmortemStatus};
use postmortem_hooks::HookKind;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{Array, Object, ObjectBuilder};

/// The characters a one-line text refuses (`postmortem_core::check_line`): control
/// characters, line and paragraph separators, and bidirectional embeddings, overrides and
/// isolates.
const NOT_IN_A_LINE: &str =
    "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069";

fn one_of<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.into_iter().collect::<Vec<_>>()))
        .build()
}

fn matching(description: &str, pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
}

pub fn incident_kind() -> Object {
    one_of(
        "What kind of incident.",
        IncidentKind::ALL.iter().map(|k| k.as_str()),
    )
}

pub fn postmortem_status() -> Object {
    one_of(
        "A post-mortem's status.",
        PostmortemStatus::ALL.iter().map(|s| s.as_str()),
    )
}

pub fn factor_category() -> Object {
    one_of(
        "A contributing factor's category.",
        FactorCategory::ALL.iter().map(|c| c.as_str()),
    )
}

pub fn perspective() -> Object {
    one_of(
        "Whose view a timeline entry gives.",
        Perspective::ALL.iter().map(|p| p.as_str()),
    )
}

pub fn chart() -> Object {
    one_of(
        "Which chart of the insights report.",
        Chart::ALL.iter().map(|c| c.as_str()),
    )
}

pub fn integration_kind() -> Object {
    one_of(
        "The sender of the integration's webhooks.",
        HookKind::ALL.iter().map(|k| k.as_str()),
    )
}

pub fn incident_sort() -> Object {
    one_of("The order of the list.", ["newest", "oldest", "severity"])
}

/// `SEV1` is the worst; how many levels there are is the organisation's setting (four
/// unless configured), and a level past it is refused.
pub fn severity() -> Object {
    matching(
        "`SEV1` (worst) to the organisation's last level (`SEV4` unless configured).",
        "^SEV[1-9]$",
    )
    .build()
}

/// A service or team name as incidents hold it ([`postmortem_core::Name`]).
pub fn name() -> Object {
    matching(
        "1 to 64 lowercase letters, digits, `-`, `_` or `.`, starting with a letter or digit, such as `payments-api`.",
        "^[a-z0-9][a-z0-9._-]{0,63}$",
    )
    .build()
}

pub fn names() -> Array {
    ArrayBuilder::new().items(name()).build()
}

/// A team's slug ([`postmortem_core::TeamName`]).
pub fn team_slug() -> Object {
    matching(
        "2 to 64 lowercase letters, digits and single `-` between them, such as `site-reliability`.",
        "^[a-z0-9]+(-[a-z0-9]+)*$",
    )
    .min_length(Some(2))
    .max_length(Some(64))
    .build()
}

/// Text on one line that says something, at most `max` characters.
fn line(max: usize) -> Object {
    matching(
        &format!("1 to {max} characters on one line, without control or bidirectional-override characters."),
        &format!("^[^\\s{NOT_IN_A_LINE}][^{NOT_IN_A_LINE}]*$"),
    )
    .max_length(Some(max))
    .build()
}

/// A title ([`postmortem_core::Title`]).
pub fn title() -> Object {
    line(postmortem_core::Title::MAX_CHARS)
}

/// An API token's label.
pub fn token_label() -> Object {
    line(100)
}

/// A calendar day, `YYYY-MM-DD`.
pub fn day() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .description(Some("A day, `YYYY-MM-DD`."))
        .build()
}

/// An instant in RFC 3339 with its offset.
pub fn instant() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some(
            "RFC 3339 with an offset, such as `2025-03-04T09:30:00+01:00`.",
        ))
        .build()
}

/// An instant as [`instant`], or `null` to remove it.
pub fn instant_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some("RFC 3339 with an offset, or `null` to remove it."))
        .build()
}
