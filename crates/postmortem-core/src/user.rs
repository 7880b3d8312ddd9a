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
        let folded = raw.as_ref().trim().to_ascii_lowercase();
        let valid = (2..=32).contains(&folded.len())
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
        if trimmed.chars().count() > 100 || trimmed.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "name",
                "must be at most 100 characters on one line",
            ));
        }
        Ok(Self(trimmed.to_owned()))
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
            | Permission::ManageWebhooks => Role::Admin,
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
