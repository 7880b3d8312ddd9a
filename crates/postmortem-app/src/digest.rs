//! The weekly digest's reads: who may read for a shared channel, for which team, as of which
//! day. The digest itself is assembled, rendered and sent by `postmortem-notify`, which sits
//! beside this crate rather than below it (it carries an HTTP client and an SMTP transport);
//! this module hands it the store only with the unrestricted view a shared channel may have.

use crate::{AppError, Service};
use postmortem_core::{Name, Permission};
use postmortem_store::Store;
use time::Date;

/// What a digest may read: the store (through the unrestricted view `build_digest` applies),
/// the team it is for, and the organisation's today.
#[derive(Debug)]
pub struct DigestScope<'a> {
    pub store: &'a dyn Store,
    pub team: Option<Name>,
    pub today: Date,
}

impl<'a> Service<'a> {
    /// The digest of one team (`team` as typed, checked here) or of everyone.
    pub fn digest_scope(&self, team: Option<&str>) -> Result<DigestScope<'a>, AppError> {
        self.require(Permission::Read, "read the follow-through digest")?;
        let team = team.map(|raw| Name::parse_field("team", raw)).transpose()?;
        Ok(DigestScope {
            store: self.app.store.as_ref(),
            team,
            today: self.app.rules.policy.today(time::OffsetDateTime::now_utc()),
        })
    }
}
