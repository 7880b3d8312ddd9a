//! Cheap template filling: `{svc}`-style placeholders written straight into a `String`.

use rand::Rng;
use std::fmt::Write;
use time::Date;

use crate::rng::between;

/// The values placeholders stand for. Numbers are re-rolled per line (`reroll`) so one
/// incident does not repeat the same figure in every sentence.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    pub svc: &'a str,
    pub svc2: &'a str,
    pub team: &'a str,
    pub region: &'static str,
    pub vendor: &'static str,
    pub ver: (u32, u32, u32),
    pub pr: u32,
    pub n: u32,
    pub pct: u32,
    pub ms: u32,
    pub min: u32,
    /// An earlier page, as local hours and minutes.
    pub at: (u8, u8),
    pub date: Date,
}

impl Ctx<'_> {
    pub fn reroll<R: Rng>(&mut self, rng: &mut R) {
        self.n = between(rng, 2, 24);
        self.pct = between(rng, 5, 95);
        self.ms = between(rng, 4, 60) * 100;
        self.pr = between(rng, 1200, 9800);
        self.min = between(rng, 3, 55);
    }
}

fn push_capitalised(out: &mut String, text: &str) {
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

/// Writes `template` to `out` with every `{key}` replaced from `ctx`.
pub(crate) fn fill(out: &mut String, template: &str, ctx: &Ctx<'_>) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .expect("placeholders in the phrase banks are closed");
        write_key(out, &after[..close], ctx);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
}

/// `fill` into a new string.
pub(crate) fn filled(template: &str, ctx: &Ctx<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    fill(&mut out, template, ctx);
    out
}

fn write_key(out: &mut String, key: &str, ctx: &Ctx<'_>) {
    // Writing to a String cannot fail, so the results of write! are ignored.
    match key {
        "svc" => out.push_str(ctx.svc),
        "Svc" => push_capitalised(out, ctx.svc),
        "svc2" => out.push_str(ctx.svc2),
        "Svc2" => push_capitalised(out, ctx.svc2),
        "team" => out.push_str(ctx.team),
        "region" => out.push_str(ctx.region),
        "vendor" => out.push_str(ctx.vendor),
        "Vendor" => push_capitalised(out, ctx.vendor),
        "ver" => {
            let _ = write!(out, "v{}.{}.{}", ctx.ver.0, ctx.ver.1, ctx.ver.2);
        }
        "pr" => push_number(out, ctx.pr),
        "n" => push_number(out, ctx.n),
        "pct" => push_number(out, ctx.pct),
        "ms" => push_number(out, ctx.ms),
        "min" => push_number(out, ctx.min),
        "at" => {
            let _ = write!(out, "{:02}:{:02}", ctx.at.0, ctx.at.1);
        }
        "date" => {
            let _ = write_date(out, ctx.date);
        }
        other => {
            debug_assert!(false, "unknown placeholder {{{other}}}");
            out.push_str(other);
        }
    }
}

pub(crate) fn push_number(out: &mut String, n: impl std::fmt::Display) {
    let _ = write!(out, "{n}");
}

/// `YYYY-MM-DD`, without going through a format description.
pub(crate) fn write_date(out: &mut String, date: Date) -> std::fmt::Result {
    write!(
        out,
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx<'static> {
        Ctx {
            svc: "payments-api",
            svc2: "ledger",
            team: "payments",
            region: "eu-west-1",
            vendor: "the SMS provider",
            ver: (3, 14, 2),
            pr: 4821,
            n: 7,
            pct: 42,
            ms: 2400,
            min: 12,
            at: (14, 2),
            date: time::macros::date!(2025 - 03 - 02),
        }
    }

    #[test]
    fn placeholders_are_replaced_and_capitalised_on_request() {
        assert_eq!(
            filled(
                "{Svc} latency spike after {svc2} pool exhaustion ({ver})",
                &ctx()
            ),
            "Payments-api latency spike after ledger pool exhaustion (v3.14.2)"
        );
        assert_eq!(
            filled("{Vendor} at {at} on {date}", &ctx()),
            "The SMS provider at 14:02 on 2025-03-02"
        );
    }

    #[test]
    fn text_without_placeholders_is_copied() {
        assert_eq!(filled("no braces here", &ctx()), "no braces here");
    }
}
