//! Rewrites of the common blame shapes, as a replacement of a finding's span: "Dana failed
//! to" becomes "Dana did not", "should have" about a person becomes "had not", "operator
//! error" becomes what it stands for. With it the suggestion quotes the whole sentence
//! rewritten, so the writer sees the edit, applies it in one click, or gets it from reviewdog.
//! Where no safe rewrite exists (fault, a person as the cause) the rule's question stays.

use crate::Category;

/// Failure verbs that take "to" and mean "did not".
const FAIL_TO: &[&str] = &["failed", "neglected", "forgot", "omitted"];
/// Modal phrases about a person that judge against hindsight.
const MODALS: &[&str] = &[
    "should have",
    "could have",
    "ought to have",
    "should've",
    "could've",
];
/// Labels that stand for a person's slip.
const ERROR_LABELS: &[&str] = &[
    "human error",
    "operator error",
    "user error",
    "pilot error",
    "admin error",
    "human mistake",
    "operator mistake",
];
/// "A mistake by X": the person stays, the verdict goes ("a step by X").
const MISTAKE_BY: &[&str] = &["careless mistake by", "mistake by", "error by", "slip by"];

/// The span's text rewritten for a finding of `category`, if the shape is one we know.
pub(crate) fn span(category: Category, text: &str) -> Option<String> {
    match category {
        Category::PersonFailure => FAIL_TO
            .iter()
            .find_map(|verb| replace_words(text, &format!("{verb} to"), "did not")),
        Category::Counterfactual => MODALS
            .iter()
            .find_map(|modal| replace_words(text, modal, "had not")),
        Category::HumanError => MISTAKE_BY
            .iter()
            .find_map(|m| replace_words(text, m, "step by"))
            .or_else(|| {
                ERROR_LABELS.iter().find_map(|label| {
                    replace_words(text, label, "a step that nothing guarded against")
                })
            }),
        _ => None,
    }
}

/// `text` with the first whole-word, case-insensitive occurrence of `phrase` replaced (a
/// capital at the start is kept).
fn replace_words(text: &str, phrase: &str, with: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return None;
    }
    let mut from = 0;
    while let Some(i) = lower[from..].find(phrase).map(|i| i + from) {
        let end = i + phrase.len();
        let before = lower[..i].chars().next_back();
        let after = lower[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '\'');
        if boundary(before) && boundary(after) {
            let capital = text[i..].starts_with(|c: char| c.is_uppercase());
            let mut with = with.to_string();
            if capital {
                with = with[..1].to_uppercase() + &with[1..];
            }
            return Some(format!("{}{with}{}", &text[..i], &text[end..]));
        }
        from = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_shapes_get_a_rewrite_of_their_span() {
        let cases = [
            (Category::PersonFailure, "Dana failed to", "Dana did not"),
            (
                Category::Counterfactual,
                "The on-call engineer should have",
                "The on-call engineer had not",
            ),
            (
                Category::HumanError,
                "operator error",
                "a step that nothing guarded against",
            ),
            (
                Category::HumanError,
                "mistake by the night operator",
                "step by the night operator",
            ),
            (Category::Counterfactual, "Should've", "Had not"),
        ];
        for (category, span_text, want) in cases {
            assert_eq!(
                span(category, span_text).as_deref(),
                Some(want),
                "{span_text}"
            );
        }
    }

    #[test]
    fn other_shapes_and_words_inside_words_are_left_alone() {
        assert_eq!(span(Category::Fault, "Sam's fault"), None);
        assert_eq!(span(Category::PersonFailure, "Dana unfailed to"), None);
        assert_eq!(span(Category::HumanError, "superhuman error"), None);
    }
}
