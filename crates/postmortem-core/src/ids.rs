//! Identifiers of stored things, as distinct types so an incident id never stands in for a user id.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a database key. Only the store creates ids; callers receive them.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An incident, and with it its one post-mortem.
    IncidentId
);
id_type!(
    /// A person with an account.
    UserId
);
id_type!(
    /// One entry of an incident's timeline.
    TimelineEntryId
);
id_type!(
    /// One contributing factor of an incident.
    FactorId
);
id_type!(
    /// One action item.
    ActionId
);
id_type!(
    /// One reviewer's decision on a post-mortem.
    ReviewId
);
id_type!(
    /// One review comment anchored to a section.
    CommentId
);
