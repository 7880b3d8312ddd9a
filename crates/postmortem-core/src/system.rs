//! The named system actors: what writes without a person at the keyboard (the demo generator,
//! an import, the digest, the notifier...), audited under its own name rather than as nobody.

use crate::{Permission, Role};

/// A part of the system that acts on its own. Each has a stable name (`system:demo`), kept in
/// the audit log beside the person column, words for pages, and a role that bounds what it may
/// do through the same [`Permission::least_role`] table as people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemActor {
    /// `postmortem demo`: the demo organisation and its incidents.
    Demo,
    /// `postmortem import` without `--as`: Markdown files read into the database.
    Import,
    /// `postmortem digest`: the weekly follow-through summary, read for a shared channel.
    Digest,
    /// `postmortem policy`: trying the post-mortem policy on an incident.
    Policy,
    /// `postmortem user`: accounts made on the command line, such as the first admin.
    Accounts,
    /// The notifier: reminders claimed and webhook deliveries enqueued, sent and pruned.
    Notify,
    /// Single sign-on: a person created at their first sign-in through the identity provider.
    SignIn,
}

impl SystemActor {
    /// Every system actor, for tests and for reading names back.
    pub const ALL: [SystemActor; 7] = [
        SystemActor::Demo,
        SystemActor::Import,
        SystemActor::Digest,
        SystemActor::Policy,
        SystemActor::Accounts,
        SystemActor::Notify,
        SystemActor::SignIn,
    ];

    /// The stable name the audit log keeps, such as `system:demo`.
    pub const fn name(self) -> &'static str {
        match self {
            SystemActor::Demo => "system:demo",
            SystemActor::Import => "system:import",
            SystemActor::Digest => "system:digest",
            SystemActor::Policy => "system:policy",
            SystemActor::Accounts => "system:accounts",
            SystemActor::Notify => "system:notify",
            SystemActor::SignIn => "system:sign-in",
        }
    }

    /// The actor a stored name stands for; `None` for a name this version does not know.
    pub fn from_name(name: &str) -> Option<SystemActor> {
        Self::ALL.into_iter().find(|actor| actor.name() == name)
    }

    /// How pages name it, in words.
    pub const fn words(self) -> &'static str {
        match self {
            SystemActor::Demo => "the demo generator",
            SystemActor::Import => "a Markdown import",
            SystemActor::Digest => "the weekly digest",
            SystemActor::Policy => "the policy check",
            SystemActor::Accounts => "the command line's account tool",
            SystemActor::Notify => "the notifier",
            SystemActor::SignIn => "single sign-on",
        }
    }

    /// What it may do, as the role whose permissions it has. The digest reads for a shared
    /// channel and the policy check reads nothing stored, so both are viewers; the others
    /// set up people, teams and incidents, which only admins may.
    pub const fn role(self) -> Role {
        match self {
            SystemActor::Digest | SystemActor::Policy => Role::Viewer,
            SystemActor::Demo
            | SystemActor::Import
            | SystemActor::Accounts
            | SystemActor::Notify
            | SystemActor::SignIn => Role::Admin,
        }
    }

    /// Whether it may do `permission`: the people's rule, applied to its role.
    pub fn may(self, permission: Permission) -> bool {
        self.role().may(permission)
    }
}

impl std::fmt::Display for SystemActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_its_actor_and_names_are_distinct() {
        for actor in SystemActor::ALL {
            assert_eq!(SystemActor::from_name(actor.name()), Some(actor));
            assert!(actor.name().starts_with("system:"));
        }
        let mut names: Vec<_> = SystemActor::ALL.iter().map(|a| a.name()).collect();
        names.dedup();
        assert_eq!(names.len(), SystemActor::ALL.len());
        assert_eq!(SystemActor::from_name("system:unknown"), None);
    }

    #[test]
    fn the_digest_may_read_but_not_write() {
        assert!(SystemActor::Digest.may(Permission::Read));
        assert!(!SystemActor::Digest.may(Permission::Write));
        assert!(SystemActor::Demo.may(Permission::ManageTeams));
    }
}
