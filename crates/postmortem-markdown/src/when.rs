//! Dates and times as people write them in post-mortems: `2019-12-04 00:30`,
//! `2021-03-31T12:11Z`, `14:02 UTC`, `9:36 AM`, `March 3, 2023`, `3 Mar 2023`. Each reader
//! finds a time at the start of a piece of text and says how much of it the time took.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A date, a time or both found at the start of a text, with the zone if it named one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub date: Option<Date>,
    pub time: Option<Time>,
    pub offset: Option<UtcOffset>,
    /// Bytes of the text the date and time took, separators after them included.
    pub len: usize,
}

impl Found {
    /// The instant, with `date` and `offset` for what the text left out.
    pub fn instant(&self, date: Option<Date>, offset: UtcOffset) -> Option<OffsetDateTime> {
        let date = self.date.or(date)?;
        let time = self.time?;
        Some(PrimitiveDateTime::new(date, time).assume_offset(self.offset.unwrap_or(offset)))
    }
}

/// Characters that may wrap or follow a time in a list or a table: `**14:02**`, `[10:05]`,
/// `` `09:00` ``, `14:02 -`, `14:02:`.
fn is_wrapper(c: char) -> bool {
    matches!(c, '*' | '_' | '`' | '[' | ']' | '(' | ')' | '|' | '~')
}

fn is_separator(c: char) -> bool {
    is_wrapper(c) || c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | ',' | '.' | '→' | '>')
}

/// Finds a date and/or time at the start of `text` (after list or emphasis marks).
pub(crate) fn find_at_start(text: &str) -> Option<Found> {
    let start = text.len()
        - text
            .trim_start_matches(|c: char| is_wrapper(c) || c.is_whitespace())
            .len();
    let mut rest = &text[start..];
    let mut found = Found {
        date: None,
        time: None,
        offset: None,
        len: 0,
    };
    if let Some((date, used)) = date_at(rest) {
        found.date = Some(date);
        rest = &rest[used..];
        let after = rest.trim_start_matches(|c: char| {
            c == 'T' || c == ',' || c.is_whitespace() || is_wrapper(c)
        });
        if let Some((time, used)) = time_at(after) {
            found.time = Some(time);
            rest = &after[used..];
        }
    } else if let Some((time, used)) = time_at(rest) {
        found.time = Some(time);
        rest = &rest[used..];
    } else {
        return None;
    }
    if found.time.is_some() {
        let (offset, used) = zone_at(rest);
        found.offset = offset;
        rest = &rest[used..];
    }
    let tail = rest.trim_start_matches(is_separator);
    found.len = text.len() - tail.len();
    Some(found)
}

fn digits(text: &str, min: usize, max: usize) -> Option<(u32, usize)> {
    let n = text
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    (n >= min).then(|| text[..n].parse().ok().map(|v| (v, n)))?
}

/// `YYYY-MM-DD`, `YYYY/MM/DD`, `Month D, YYYY`, `D Month YYYY`.
fn date_at(text: &str) -> Option<(Date, usize)> {
    if let Some((year, 4)) = digits(text, 4, 4) {
        let sep = text[4..].chars().next()?;
        if sep == '-' || sep == '/' {
            let (month, m) = digits(&text[5..], 1, 2)?;
            if text[5 + m..].chars().next()? != sep {
                return None;
            }
            let (day, d) = digits(&text[6 + m..], 1, 2)?;
            let date = Date::from_calendar_date(
                i32::try_from(year).ok()?,
                Month::try_from(u8::try_from(month).ok()?).ok()?,
                u8::try_from(day).ok()?,
            )
            .ok()?;
            return Some((date, 6 + m + d));
        }
        return None;
    }
    // `Month D, YYYY` or `D Month YYYY`.
    let words: Vec<(usize, &str)> = word_spans(text).take(3).collect();
    let [(_, a), (_, b), (c_at, c)] = words.as_slice().try_into().ok()?;
    let strip = |w: &str| {
        let w = w.trim_end_matches([',', '.']);
        ["st", "nd", "rd", "th"]
            .iter()
            .find_map(|suffix| w.strip_suffix(suffix))
            .unwrap_or(w)
            .to_owned()
    };
    let (month, day) = match (month_of(a), month_of(b)) {
        (Some(month), _) => (month, strip(b).parse::<u8>().ok()?),
        (None, Some(month)) => (month, strip(a).parse::<u8>().ok()?),
        _ => return None,
    };
    let year: i32 = c.trim_end_matches([',', '.']).parse().ok()?;
    if !(1970..=2200).contains(&year) {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let year_len = c.trim_end_matches([',', '.']).len();
    Some((date, c_at + year_len))
}

fn word_spans(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace()
        .map(move |word| (word.as_ptr() as usize - text.as_ptr() as usize, word))
}

fn month_of(word: &str) -> Option<Month> {
    let word = word.trim_end_matches([',', '.']).to_ascii_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if word.len() < 3 {
        return None;
    }
    let index = months.iter().position(|m| word.starts_with(m))?;
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let ok = full[index].starts_with(&word) || word == "sept";
    ok.then(|| Month::try_from(u8::try_from(index + 1).ok()?).ok())?
}

/// `HH:MM`, `HH:MM:SS(.fff)`, with `AM`/`PM`.
fn time_at(text: &str) -> Option<(Time, usize)> {
    let (hour, h) = digits(text, 1, 2)?;
    if !text[h..].starts_with(':') {
        return None;
    }
    let (minute, m) = digits(&text[h + 1..], 2, 2)?;
    let mut used = h + 1 + m;
    let mut second = 0;
    if text[used..].starts_with(':')
        && let Some((s, n)) = digits(&text[used + 1..], 2, 2)
    {
        second = s;
        used += 1 + n;
        if text[used..].starts_with('.') {
            used += 1 + text[used + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
        }
    }
    let mut hour = hour;
    let after = text[used..].trim_start();
    let lower = after.get(..2).map(str::to_ascii_lowercase);
    if let Some(ampm @ ("am" | "pm")) = lower.as_deref()
        && !after[2..].starts_with(|c: char| c.is_ascii_alphanumeric())
        && (1..=12).contains(&hour)
    {
        hour = match (ampm, hour) {
            ("am", 12) => 0,
            ("pm", h) if h < 12 => h + 12,
            (_, h) => h,
        };
        used = text.len() - after.len() + 2;
    }
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some((time, used))
}

/// A zone right after a time: `Z`, `+01:00`, `UTC`, `(UTC)`, `GMT`, or a common abbreviation.
fn zone_at(text: &str) -> (Option<UtcOffset>, usize) {
    let trimmed = text.trim_start_matches([' ', '(']);
    let skipped = text.len() - trimmed.len();
    if let Some(rest) = trimmed.strip_prefix('Z')
        && !rest.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return (Some(UtcOffset::UTC), skipped + 1 + close(rest));
    }
    if let Some(sign @ ('+' | '-')) = trimmed.chars().next()
        && let Some((h, 2)) = digits(&trimmed[1..], 2, 2)
    {
        let rest = trimmed[3..].strip_prefix(':').unwrap_or(&trimmed[3..]);
        if let Some((m, 2)) = digits(rest, 2, 2) {
            let used = trimmed.len() - rest.len() + 2;
            let seconds = i32::try_from(h * 3600 + m * 60).unwrap_or(0);
            let seconds = if sign == '-' { -seconds } else { seconds };
            return (UtcOffset::from_whole_seconds(seconds).ok(), skipped + used);
        }
    }
    let word: String = trimmed
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    let hours = match word.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" => 0,
        "CET" | "BST" | "WAT" => 1,
        "CEST" | "EET" | "SAST" => 2,
        "EEST" | "MSK" => 3,
        "EST" => -5,
        "EDT" => -4,
        "CDT" => -5,
        "CST" => -6,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "JST" | "KST" => 9,
        _ => return (None, 0),
    };
    let rest = &trimmed[word.len()..];
    (
        UtcOffset::from_hms(hours, 0, 0).ok(),
        skipped + word.len() + close(rest),
    )
}

fn close(rest: &str) -> usize {
    usize::from(rest.starts_with(')'))
}

/// Whether a piece of text says which zone its times are in, as `All times in UTC` or a
/// heading `Timeline (PST)` do: the zone, if so.
pub(crate) fn zone_named_in(text: &str) -> Option<UtcOffset> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| word.len() >= 3 && word.chars().all(|c| c.is_ascii_uppercase()))
        .find_map(|word| zone_at(word).0)
}

/// The first date anywhere in `text`, as a fallback for what has no date of its own.
pub(crate) fn first_date_in(text: &str) -> Option<Date> {
    text.char_indices()
        .filter(|(at, c)| {
            c.is_ascii_alphanumeric()
                && text[..*at]
                    .chars()
                    .next_back()
                    .is_none_or(|before| !before.is_ascii_alphanumeric())
        })
        .find_map(|(at, _)| date_at(&text[at..]).map(|(date, _)| date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, offset};

    fn instant(text: &str) -> Option<OffsetDateTime> {
        find_at_start(text)?.instant(Some(date!(2020 - 01 - 01)), UtcOffset::UTC)
    }

    #[test]
    fn times_are_read_in_the_shapes_post_mortems_use() {
        assert_eq!(
            instant("2019-12-04 00:30"),
            Some(datetime!(2019-12-04 00:30 UTC))
        );
        assert_eq!(
            instant("2021-03-31T12:11:05Z rest"),
            Some(datetime!(2021-03-31 12:11:05 UTC))
        );
        assert_eq!(
            instant("**14:02 UTC** - paged"),
            Some(datetime!(2020-01-01 14:02 UTC))
        );
        assert_eq!(
            instant("9:36 AM (UTC)"),
            Some(datetime!(2020-01-01 09:36 UTC))
        );
        assert_eq!(
            instant("12:15 PM PST"),
            Some(datetime!(2020-01-01 12:15 -8))
        );
        assert_eq!(
            instant("March 3, 2023 9:36 PM"),
            Some(datetime!(2023-03-03 21:36 UTC))
        );
        assert_eq!(
            instant("3 Mar 2023 10:00 +02:00"),
            Some(datetime!(2023-03-03 10:00 +2))
        );
        assert_eq!(
            instant("[10:05] rollback"),
            Some(datetime!(2020-01-01 10:05 UTC))
        );
        assert_eq!(instant("Rolled back at 10:05"), None);
        assert_eq!(instant("99:99"), None);
    }

    #[test]
    fn what_follows_the_time_is_the_text() {
        let text = "- 14:02 UTC — Alert fired";
        let found = find_at_start(&text[2..]).unwrap();
        assert_eq!(&text[2 + found.len..], "Alert fired");
        assert_eq!(found.offset, Some(offset!(UTC)));
    }

    #[test]
    fn a_date_alone_has_no_time() {
        let found = find_at_start("2023-03-03").unwrap();
        assert_eq!(found.date, Some(date!(2023 - 03 - 03)));
        assert_eq!(found.time, None);
        assert_eq!(found.instant(None, UtcOffset::UTC), None);
    }

    #[test]
    fn zones_named_in_prose_are_found() {
        assert_eq!(zone_named_in("All times in UTC."), Some(UtcOffset::UTC));
        assert_eq!(zone_named_in("Timeline (PDT)"), Some(offset!(-7)));
        assert_eq!(zone_named_in("Timeline"), None);
        assert_eq!(
            first_date_in("On Wednesday 31 March 2021, certs"),
            Some(date!(2021 - 03 - 31))
        );
    }
}
