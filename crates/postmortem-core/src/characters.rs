//! Which characters stored text may hold, the same rules for SQLite and PostgreSQL.
//!
//! PostgreSQL cannot store U+0000 in text at all, and the other control characters are never
//! typed on purpose: they arrive from pastes and scripts and break exports, terminals and
//! diffs. So prose (sections, timeline text, comments, reasons, descriptions) refuses every
//! control character except tab, line feed and carriage return. One-line text (titles,
//! names, handles, services, teams) refuses every control character, line separators, and the
//! bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069),
//! which can reverse how a title reads and so disguise one incident as another.
//!
//! The left-to-right and right-to-left marks (U+200E, U+200F) and the Arabic letter mark
//! (U+061C) are allowed everywhere: mixed-direction names need them, and they cannot reorder a
//! run of letters, only say which way the characters around them lean.

use crate::ValidationError;

/// Checks prose: any character but the controls other than tab, line feed and carriage return.
/// The error names the character and where it is as line and column.
pub fn check_prose(field: &str, text: &str) -> Result<(), ValidationError> {
    let refused = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    let Some((offset, c)) = text.char_indices().find(|&(_, c)| refused(c)) else {
        return Ok(());
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    Err(ValidationError::new(
        field,
        format!(
            "contains the control character {} at line {line}, column {column}; control characters other than tab and line breaks cannot be stored: delete it",
            describe(c)
        ),
    ))
}

/// Checks one line of text: no control characters, no line breaks, no direction controls.
/// `text` is checked as trimmed (surrounding whitespace is dropped by the parsers anyway);
/// the position counts characters from the start of `text` as given.
pub fn check_line(field: &str, text: &str) -> Result<(), ValidationError> {
    let kept = text.trim();
    let skipped = text.len() - text.trim_start().len();
    let Some((offset, c)) = kept
        .char_indices()
        .find(|&(_, c)| c.is_control() || is_line_break(c) || is_direction_control(c))
    else {
        return Ok(());
    };
    let position = text[..skipped + offset].chars().count() + 1;
    let what = describe(c);
    let rule = if is_line_break(c) || matches!(c, '\n' | '\r') {
        format!("must be a single line: it has a line break ({what}) at character {position}")
    } else if is_direction_control(c) {
        format!(
            "contains the text direction control {what} at character {position}, which can make it read as something else: delete it"
        )
    } else {
        format!(
            "contains the control character {what} at character {position}; one-line text cannot hold control characters: delete it"
        )
    };
    Err(ValidationError::new(field, rule))
}

/// Line and paragraph separators: not controls, but they break a line where they stand.
fn is_line_break(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Bidirectional embeddings, overrides and isolates (not the marks U+200E/U+200F/U+061C).
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `U+XXXX NAME`, e.g. `U+0000 NULL`.
pub fn describe(c: char) -> String {
    let code = u32::from(c);
    match name(c) {
        Some(name) => format!("U+{code:04X} {name}"),
        None => format!("U+{code:04X}"),
    }
}

/// The Unicode name (for controls, their standard alias) of the characters these rules
/// refuse; a crate with the whole name table would weigh a megabyte for these 76 names.
fn name(c: char) -> Option<&'static str> {
    const C0: [&str; 32] = [
        "NULL",
        "START OF HEADING",
        "START OF TEXT",
        "END OF TEXT",
        "END OF TRANSMISSION",
        "ENQUIRY",
        "ACKNOWLEDGE",
        "BELL",
        "BACKSPACE",
        "CHARACTER TABULATION",
        "LINE FEED",
        "LINE TABULATION",
        "FORM FEED",
        "CARRIAGE RETURN",
        "SHIFT OUT",
        "SHIFT IN",
        "DATA LINK ESCAPE",
        "DEVICE CONTROL ONE",
        "DEVICE CONTROL TWO",
        "DEVICE CONTROL THREE",
        "DEVICE CONTROL FOUR",
        "NEGATIVE ACKNOWLEDGE",
        "SYNCHRONOUS IDLE",
        "END OF TRANSMISSION BLOCK",
        "CANCEL",
        "END OF MEDIUM",
        "SUBSTITUTE",
        "ESCAPE",
        "INFORMATION SEPARATOR FOUR",
        "INFORMATION SEPARATOR THREE",
        "INFORMATION SEPARATOR TWO",
        "INFORMATION SEPARATOR ONE",
    ];
    const C1: [&str; 32] = [
        "PADDING CHARACTER",
        "HIGH OCTET PRESET",
        "BREAK PERMITTED HERE",
        "NO BREAK HERE",
        "INDEX",
        "NEXT LINE",
        "START OF SELECTED AREA",
        "END OF SELECTED AREA",
        "CHARACTER TABULATION SET",
        "CHARACTER TABULATION WITH JUSTIFICATION",
        "LINE TABULATION SET",
        "PARTIAL LINE FORWARD",
        "PARTIAL LINE BACKWARD",
        "REVERSE LINE FEED",
        "SINGLE SHIFT TWO",
        "SINGLE SHIFT THREE",
        "DEVICE CONTROL STRING",
        "PRIVATE USE ONE",
        "PRIVATE USE TWO",
        "SET TRANSMIT STATE",
        "CANCEL CHARACTER",
        "MESSAGE WAITING",
        "START OF GUARDED AREA",
        "END OF GUARDED AREA",
        "START OF STRING",
        "SINGLE GRAPHIC CHARACTER INTRODUCER",
        "SINGLE CHARACTER INTRODUCER",
        "CONTROL SEQUENCE INTRODUCER",
        "STRING TERMINATOR",
        "OPERATING SYSTEM COMMAND",
        "PRIVACY MESSAGE",
        "APPLICATION PROGRAM COMMAND",
    ];
    let code = u32::from(c) as usize;
    Some(match c {
        '\u{0}'..='\u{1F}' => C0[code],
        '\u{7F}' => "DELETE",
        '\u{80}'..='\u{9F}' => C1[code - 0x80],
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_keeps_tabs_line_breaks_and_every_script() {
        let text = "Step\tone\r\nשלום עולם\n👩‍💻 e\u{301} \u{200F}";
        assert_eq!(check_prose("text", text), Ok(()));
    }

    #[test]
    fn a_nul_in_prose_is_named_with_its_line_and_column() {
        let error = check_prose("sections.summary", "first line\nab\0c").unwrap_err();
        assert_eq!(error.field(), "sections.summary");
        assert_eq!(
            error.rule(),
            "contains the control character U+0000 NULL at line 2, column 3; control characters other than tab and line breaks cannot be stored: delete it"
        );
    }

    #[test]
    fn an_escape_and_a_c1_control_are_refused_in_prose() {
        assert!(check_prose("text", "\u{1b}[31mred").is_err());
        assert!(check_prose("text", "next\u{85}line").is_err());
    }

    #[test]
    fn a_right_to_left_override_in_a_line_is_named_with_its_position() {
        let error = check_line("title", "  Invoice \u{202E}fdp.exe").unwrap_err();
        assert_eq!(
            error.rule(),
            "contains the text direction control U+202E RIGHT-TO-LEFT OVERRIDE at character 11, which can make it read as something else: delete it"
        );
    }

    #[test]
    fn a_line_refuses_tabs_isolates_and_separators_but_keeps_marks() {
        assert!(check_line("title", "a\tb").is_err());
        assert!(check_line("title", "a\u{2067}b\u{2069}").is_err());
        assert!(
            check_line("title", "a\u{2028}b")
                .unwrap_err()
                .rule()
                .starts_with("must be a single line")
        );
        assert_eq!(
            check_line("title", "\tשלום \u{200F}42 مرحبا\u{061C}\n"),
            Ok(())
        );
    }

    #[test]
    fn every_refused_character_has_a_name() {
        for c in (0..=0x9F_u32).chain(0x2028..=0x202E).chain(0x2066..=0x2069) {
            let c = char::from_u32(c).unwrap();
            if c.is_control() || is_line_break(c) || is_direction_control(c) {
                assert!(name(c).is_some(), "{c:?} has no name");
            }
        }
        assert_eq!(describe('\u{1b}'), "U+001B ESCAPE");
    }

    proptest::proptest! {
        #[test]
        fn an_accepted_line_holds_no_control_break_or_direction_control(
            raw in "[ \t]?\\PC{0,20}[\x00-\x1f\u{2028}\u{202A}-\u{202E}\u{2066}-\u{2069}\u{200E}\u{200F}]?\\PC{0,20}"
        ) {
            let accepted = check_line("title", &raw).is_ok();
            let clean = raw.trim().chars().all(|c| {
                !c.is_control() && !is_line_break(c) && !is_direction_control(c)
            });
            proptest::prop_assert_eq!(accepted, clean);
        }

        #[test]
        fn accepted_prose_holds_no_control_but_tab_and_line_breaks(raw in "\\PC{0,40}[\\x00-\\x1f\\x7f-\\x9f]?\\PC{0,40}") {
            let accepted = check_prose("text", &raw).is_ok();
            let clean = raw.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
            proptest::prop_assert_eq!(accepted, clean);
        }
    }
}
