//! The post-mortem lifecycle as a state machine: which status may follow which.

closed_set!(
    /// Where a post-mortem stands.
    PostmortemStatus, field = "status" {
        /// Policy says no review is owed (or a reviewer waived it, with a reason).
        NotRequired => "not_required",
        /// A review is owed and nobody has started writing.
        Owed => "owed",
        Draft => "draft",
        InReview => "in_review",
        ChangesRequested => "changes_requested",
        Approved => "approved",
        Published => "published",
    }
);

/// A transition the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a post-mortem that is `{from}` cannot become `{to}`; from `{from}` it can become: {allowed}"
)]
pub struct TransitionError {
    pub from: PostmortemStatus,
    pub to: PostmortemStatus,
    allowed: String,
}

impl PostmortemStatus {
    /// The statuses this one may move to. Any change to an approved post-mortem sends it back
    /// to draft; a published one may be reopened as a draft to amend it.
    pub fn next(self) -> &'static [PostmortemStatus] {
        use PostmortemStatus::*;
        match self {
            NotRequired => &[Owed, Draft],
            Owed => &[Draft, NotRequired],
            Draft => &[InReview, NotRequired],
            InReview => &[ChangesRequested, Approved, Draft],
            ChangesRequested => &[InReview, Draft],
            Approved => &[Published, Draft],
            Published => &[Draft],
        }
    }

    /// Checks a transition; the error says what is allowed instead.
    pub fn transition(self, to: PostmortemStatus) -> Result<PostmortemStatus, TransitionError> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            let allowed = self
                .next()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Err(TransitionError {
                from: self,
                to,
                allowed,
            })
        }
    }

    /// Whether the writing is finished and the document is a reader's, not a writer's.
    pub fn is_published(self) -> bool {
        self == PostmortemStatus::Published
    }

    /// Whether a review is still owed: the post-mortem is required but not yet published.
    pub fn is_owed_work(self) -> bool {
        !matches!(
            self,
            PostmortemStatus::NotRequired | PostmortemStatus::Published
        )
    }
}

#[cfg(test)]
mod tests {
    use super::PostmortemStatus::{self, *};

    /// Every (from, to) pair the lifecycle allows, written out by hand so that a change to
    /// `next()` must be a deliberate change to this list too.
    const ALLOWED: &[(PostmortemStatus, PostmortemStatus)] = &[
        (NotRequired, Owed),
        (NotRequired, Draft),
        (Owed, Draft),
        (Owed, NotRequired),
        (Draft, InReview),
        (Draft, NotRequired),
        (InReview, ChangesRequested),
        (InReview, Approved),
        (InReview, Draft),
        (ChangesRequested, InReview),
        (ChangesRequested, Draft),
        (Approved, Published),
        (Approved, Draft),
        (Published, Draft),
    ];

    #[test]
    fn every_pair_of_statuses_is_allowed_exactly_when_listed() {
        for &from in PostmortemStatus::ALL {
            for &to in PostmortemStatus::ALL {
                let expected = ALLOWED.contains(&(from, to));
                assert_eq!(
                    from.transition(to).is_ok(),
                    expected,
                    "{from} -> {to} should be {}",
                    if expected { "allowed" } else { "refused" }
                );
            }
        }
    }

    #[test]
    fn publishing_a_draft_is_refused_with_what_is_allowed() {
        let error = Draft.transition(Published).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a post-mortem that is `draft` cannot become `published`; from `draft` it can become: in_review, not_required"
        );
    }

    #[test]
    fn no_status_moves_to_itself() {
        for &status in PostmortemStatus::ALL {
            assert!(status.transition(status).is_err(), "{status}");
        }
    }

    #[test]
    fn a_review_is_owed_until_published_unless_not_required() {
        assert!(Owed.is_owed_work());
        assert!(ChangesRequested.is_owed_work());
        assert!(!Published.is_owed_work());
        assert!(!NotRequired.is_owed_work());
    }
}
