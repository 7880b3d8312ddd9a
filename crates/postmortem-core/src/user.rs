//! People with accounts: their handle, name and role.

use crate::{UserId, ValidationError};
use serde::Serialize;
use time::OffsetDateTime;

parsed_string!(
    /// A sign-in handle: 2 to 32 lowercase letters, digits, `.`, `_` or `-`, starting with a
    /// letter, as in `dana` or `alex.kim`.
    Handle
);

impl Handle {
    pub fn parse(raw: impl AsRef<str>) -> Result<Self, ValidationError> {
        crate::characters::check_line("handle", raw.as_ref())?;
        let folded = raw.as_ref().trim().to_ascii_lowercase();
        let valid = (2..=HANDLE_MAX_LEN).contains(&folded.len())
            && folded.starts_with(|c: char| c.is_ascii_lowercase())
            && folded.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if valid {
            Ok(Self(folded))
        } else {
            Err(ValidationError::new(
                "handle",
                "must be 2 to 32 lowercase letters, digits, `.`, `_` or `-`, starting with a letter (e.g. `alex.kim`)",
            ))
        }
    }
}

/// The longest handle [`Handle::parse`] accepts.
const HANDLE_MAX_LEN: usize = 32;

impl Handle {
    /// A handle made from a name another system knows the person by, such as an identity
    /// provider's username or an email's local part: lowercased, every other character made
    /// a `-`, leading characters that are not letters dropped, cut to 32. `None` when fewer
    /// than two usable characters remain (e.g. a name written only in another script).
    pub fn derive(raw: &str) -> Option<Handle> {
        let mut folded = String::with_capacity(raw.len());
        for c in raw.chars() {
            let c = match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '.' | '_') => c,
                _ => '-',
            };
            let starts = folded.is_empty();
            if (starts && !c.is_ascii_lowercase()) || (c == '-' && folded.ends_with('-')) {
                continue;
            }
            folded.push(c);
        }
        folded.truncate(HANDLE_MAX_LEN);
        let trimmed = folded.trim_end_matches(['-', '.', '_']);
        Handle::parse(trimmed).ok()
    }

    /// This handle with `-n` appended, shortened to stay within 32 characters: the next
    /// candidate when a derived handle is taken.
    #[must_use]
    pub fn numbered(&self, n: u32) -> Handle {
        let suffix = format!("-{n}");
        let mut base = self.0.clone();
        base.truncate(HANDLE_MAX_LEN - suffix.len());
        // A handle starts with a letter, and a u32 suffix leaves at least 21 characters of
        // it, so the result is always a valid handle.
        Handle(format!(
            "{}{suffix}",
            base.trim_end_matches(['-', '.', '_'])
        ))
    }
}

parsed_string!(
    /// A person's name as shown to others: 1 to 100 characters on one line.
    DisplayName
);

impl DisplayName {
    pub fn parse(raw: impl AsRef<str>) -> Result<Self, ValidationError> {
        let trimmed = raw.as_ref().trim();
        if trimmed.is_empty() {
            return Err(ValidationError::new("name", "must not be empty"));
        }
        crate::characters::check_line("name", raw.as_ref())?;
        if trimmed.chars().count() > 100 {
            return Err(ValidationError::new(
                "name",
                "must be at most 100 characters on one line",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A name as a database row holds it, taken as it is: rows written before the direction
    /// controls were refused must still load. Only the store's row readers use it.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }
}

closed_set!(
    /// What a person may do. Each role may do everything the ones before it may.
    Role, field = "role" {
        /// Reads what they are allowed to see.
        Viewer => "viewer",
        /// Creates incidents, writes timelines, sections, factors and actions.
        Contributor => "contributor",
        /// Reviews: comments, approves, requests changes, waives a review with a reason.
        Reviewer => "reviewer",
        /// Manages people and sees everything.
        Admin => "admin",
    }
);

impl Role {
    /// Whether a person with this role may do `permission`: the one rule the server asks.
    pub fn may(self, permission: Permission) -> bool {
        self >= permission.least_role()
    }

    pub fn can_write(self) -> bool {
        self.may(Permission::Write)
    }

    pub fn can_review(self) -> bool {
        self.may(Permission::Review)
    }

    pub fn is_admin(self) -> bool {
        self.may(Permission::SeeEverything)
    }
}

closed_set!(
    /// What the server lets a role do. [`Permission::least_role`] is the roles matrix of the
    /// README: every role may do what the roles before it may.
    Permission, field = "permission" {
        /// Read incidents they may see, search, follow-through and figures; list teams and
        /// their members.
        Read => "read",
        /// Record incidents; write timelines, sections, factors and action items; move a
        /// post-mortem to review; resolve review comments.
        Write => "write",
        /// Add or remove named people on an incident they are a member of.
        ManageIncidentMembers => "manage_incident_members",
        /// Comment on reviews, approve, request changes, waive a post-mortem with a reason.
        Review => "review",
        /// See every incident, restricted or not.
        SeeEverything => "see_everything",
        /// Create teams and manage their members.
        ManageTeams => "manage_teams",
        /// List people and change their roles.
        ManagePeople => "manage_people",
        /// Register outgoing webhooks and read their delivery log.
        ManageWebhooks => "manage_webhooks",
        /// Read the whole audit log (an incident's members read its own history).
        ReadAuditLog => "read_audit_log",
    }
);

impl Permission {
    /// The least role that has the permission.
    pub const fn least_role(self) -> Role {
        match self {
            Permission::Read => Role::Viewer,
            Permission::Write | Permission::ManageIncidentMembers => Role::Contributor,
            Permission::Review => Role::Reviewer,
            Permission::SeeEverything
            | Permission::ManageTeams
            | Permission::ManagePeople
            | Permission::ManageWebhooks
            | Permission::ReadAuditLog => Role::Admin,
        }
    }
}

/// A person with an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub handle: Handle,
    pub display_name: DisplayName,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_folded_to_lowercase() {
        assert_eq!(Handle::parse("Alex.Kim").unwrap().as_str(), "alex.kim");
        assert!(Handle::parse("a").is_err());
        assert!(Handle::parse("9lives").is_err());
        assert!(Handle::parse("dana smith").is_err());
    }

    #[test]
    fn handles_are_derived_from_usernames_and_email_local_parts() {
        let derive = |raw| Handle::derive(raw).map(Handle::into_inner);
        assert_eq!(derive("ada").as_deref(), Some("ada"));
        assert_eq!(derive("Grace.Hopper").as_deref(), Some("grace.hopper"));
        assert_eq!(derive("José Ruiz").as_deref(), Some("jos-ruiz"));
        assert_eq!(derive("42-ops team").as_deref(), Some("ops-team"));
        assert_eq!(derive("x").as_deref(), None);
        assert_eq!(derive("李雷").as_deref(), None);
        assert_eq!(derive(&"a".repeat(40)).map(|h| h.len()), Some(32));
    }

    #[test]
    fn a_numbered_handle_keeps_within_the_length() {
        let ada = Handle::parse("ada").unwrap();
        assert_eq!(ada.numbered(2).as_str(), "ada-2");
        let long = Handle::parse("a".repeat(32)).unwrap();
        assert_eq!(long.numbered(12).as_str(), format!("{}-12", "a".repeat(29)));
    }

    proptest::proptest! {
        #[test]
        fn derived_and_numbered_handles_always_parse(raw in "\\PC{0,60}", n in 0_u32..) {
            if let Some(handle) = Handle::derive(&raw) {
                proptest::prop_assert_eq!(Handle::parse(handle.as_str()), Ok(handle.clone()));
                let numbered = handle.numbered(n);
                proptest::prop_assert_eq!(Handle::parse(numbered.as_str()), Ok(numbered.clone()));
            }
        }
    }

    #[test]
    fn roles_grow_in_power() {
        assert!(!Role::Viewer.can_write());
        assert!(Role::Contributor.can_write() && !Role::Contributor.can_review());
        assert!(Role::Reviewer.can_review() && !Role::Reviewer.is_admin());
        assert!(Role::Admin.can_write() && Role::Admin.can_review() && Role::Admin.is_admin());
    }

    #[test]
    fn each_permission_belongs_to_its_least_role_and_every_role_above_it() {
        for permission in Permission::ALL {
            for role in Role::ALL {
                assert_eq!(
                    role.may(*permission),
                    *role >= permission.least_role(),
                    "{role} {permission}"
                );
            }
        }
        assert!(Role::Viewer.may(Permission::Read) && !Role::Viewer.may(Permission::Write));
        assert!(!Role::Reviewer.may(Permission::ManageTeams));
        assert!(Role::Admin.may(Permission::ManagePeople));
    }

    #[test]
    fn an_unknown_role_lists_the_roles() {
        assert_eq!(
            Role::parse("owner").unwrap_err().to_string(),
            "role: `owner` is not one of: viewer, contributor, reviewer, admin"
        );
    }
}
