//! Validated text values: titles, service and team names, Markdown bodies and web links.

use crate::ValidationError;
use crate::characters::{check_line, check_prose};

parsed_string!(
    /// A one-line title: 1 to 200 characters after trimming, no line breaks.
    Title
);

impl Title {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        Self::parse_field("title", raw)
    }

    /// Parses a title-like line for another field, such as an action item's title.
    pub fn parse_field(field: &str, raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        check_line(field, &raw)?;
        let n_chars = trimmed.chars().count();
        if n_chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                field,
                format!(
                    "must be at most {} characters (got {n_chars})",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A title as a database row holds it, taken as it is: rows written before the
    /// character rules of [`check_line`] must still load. Only the store's row readers use it.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }
}

parsed_string!(
    /// A service or team name: lowercase letters, digits and single dashes, 1 to 64
    /// characters, as in `payments-api` or `sre`. Case is folded so `Payments` and
    /// `payments` are one service.
    Name
);

impl Name {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        Self::parse_field("name", raw)
    }

    pub fn parse_field(field: &str, raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw = raw.into();
        check_line(field, &raw)?;
        let folded = raw.trim().to_lowercase();
        let rule = "must be 1 to 64 lowercase letters, digits, `-`, `_` or `.`, starting with a letter or digit (e.g. `payments-api`)";
        let valid = !folded.is_empty()
            && folded.len() <= Self::MAX_CHARS
            && folded.starts_with(|c: char| c.is_ascii_alphanumeric())
            && folded.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if valid {
            Ok(Self(folded))
        } else {
            Err(ValidationError::new(field, rule))
        }
    }
}

parsed_string!(
    /// Markdown text of a section, a comment or a description; at most 200,000 bytes.
    /// It is stored as written; rendering sanitises it.
    Markdown
);

impl Markdown {
    pub const MAX_BYTES: usize = 200_000;

    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        Self::parse_field("text", raw)
    }

    pub fn parse_field(field: &str, raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw = raw.into();
        if raw.len() > Self::MAX_BYTES {
            return Err(ValidationError::new(
                field,
                format!(
                    "must be at most {} bytes (got {})",
                    Self::MAX_BYTES,
                    raw.len()
                ),
            ));
        }
        check_prose(field, &raw)?;
        Ok(Self(raw))
    }

    /// Text as a database row holds it, taken as it is: rows written before the character
    /// rules of [`check_prose`] must still load. Only the store's row readers use it.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    /// Text that must say something, such as a timeline entry or a factor's description.
    pub fn parse_non_empty(field: &str, raw: impl Into<String>) -> Result<Self, ValidationError> {
        let parsed = Self::parse_field(field, raw)?;
        if parsed.0.trim().is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        Ok(parsed)
    }

    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

parsed_string!(
    /// An absolute `http` or `https` link, such as a chat message or a tracker ticket.
    WebLink
);

impl WebLink {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        Self::parse_field("link", raw)
    }

    pub fn parse_field(field: &str, raw: impl Into<String>) -> Result<Self, ValidationError> {
        let raw = raw.into();
        let trimmed = raw.trim();
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"));
        let valid = match rest {
            Some(rest) => {
                !rest.is_empty()
                    && !rest.starts_with('/')
                    && trimmed.len() <= 2048
                    && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ValidationError::new(
                field,
                "must be an absolute http:// or https:// link without spaces, at most 2048 characters",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_trimmed() {
        assert_eq!(
            Title::parse("  Checkout down  ").unwrap().as_str(),
            "Checkout down"
        );
    }

    #[test]
    fn an_empty_title_is_refused_naming_the_field() {
        let error = Title::parse("   ").unwrap_err();
        assert_eq!(error.field(), "title");
        assert_eq!(error.to_string(), "title: must not be empty");
    }

    #[test]
    fn a_title_over_200_characters_is_refused() {
        assert!(Title::parse("é".repeat(200)).is_ok());
        assert!(Title::parse("é".repeat(201)).is_err());
    }

    #[test]
    fn a_multi_line_title_is_refused() {
        assert!(Title::parse("a\nb").is_err());
    }

    #[test]
    fn a_title_with_a_direction_override_or_a_nul_is_refused_naming_the_character() {
        let error = Title::parse("Disk full on db-1\u{202E}").unwrap_err();
        assert!(
            error
                .rule()
                .contains("U+202E RIGHT-TO-LEFT OVERRIDE at character 18")
        );
        let error = Title::parse_field("action.title", "a\0b").unwrap_err();
        assert_eq!(error.field(), "action.title");
        assert!(error.rule().contains("U+0000 NULL at character 2"));
    }

    #[test]
    fn a_section_with_a_nul_is_refused_but_one_with_tabs_and_crlf_is_kept_as_written() {
        assert!(Markdown::parse_field("sections.summary", "a\0").is_err());
        let written = "\tindented\r\nnext ‏line 👩‍👩‍👧";
        assert_eq!(Markdown::parse(written).unwrap().as_str(), written);
    }

    #[test]
    fn stored_text_from_before_the_rules_still_loads() {
        assert_eq!(Title::from_stored("a\0b".into()).as_str(), "a\0b");
        assert_eq!(Markdown::from_stored("\0".into()).as_str(), "\0");
    }

    #[test]
    fn a_service_name_with_a_control_character_says_which() {
        let error = Name::parse_field("services[0]", "pay\u{7}ments").unwrap_err();
        assert!(error.rule().contains("U+0007 BELL at character 4"));
    }

    #[test]
    fn names_are_case_folded_and_restricted_to_a_slug() {
        assert_eq!(
            Name::parse("Payments-API").unwrap().as_str(),
            "payments-api"
        );
        assert!(Name::parse("payments api").is_err());
        assert!(Name::parse("-leading").is_err());
        assert!(Name::parse("").is_err());
    }

    #[test]
    fn only_absolute_web_links_are_accepted() {
        assert!(WebLink::parse("https://chat.example.com/archives/C1/p123").is_ok());
        assert!(WebLink::parse("javascript:alert(1)").is_err());
        assert!(WebLink::parse("https://").is_err());
        assert!(WebLink::parse("ftp://example.com").is_err());
        assert!(WebLink::parse("https://a b").is_err());
    }

    #[test]
    fn blank_markdown_is_refused_where_text_is_required() {
        assert!(Markdown::parse_non_empty("text", " \n").is_err());
        assert!(Markdown::parse("").unwrap().is_blank());
    }

    proptest::proptest! {
        #[test]
        fn a_parsed_name_always_parses_again_to_itself(raw in "\\PC{0,80}") {
            if let Ok(name) = Name::parse(raw) {
                proptest::prop_assert_eq!(Name::parse(name.as_str()).unwrap(), name);
            }
        }

        #[test]
        fn title_parsing_never_panics_and_keeps_its_promise(raw in "\\PC{0,300}") {
            if let Ok(title) = Title::parse(raw) {
                proptest::prop_assert!(!title.as_str().is_empty());
                proptest::prop_assert!(title.as_str().chars().count() <= Title::MAX_CHARS);
            }
        }
    }
}
