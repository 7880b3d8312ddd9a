//! Teams and people: teams and their members, everyone's accounts and roles, and finding a
//! person by handle for a field or a path that names one.

use crate::{AppError, Service};
use postmortem_core::{
    Collector, Handle, Permission, Role, Team, TeamName, User, UserId, ValidationError,
};
use postmortem_store::NewTeam;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The body of `POST /api/v1/teams` and of the new-team form.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    /// The slug: lowercase letters, digits and single `-`, such as `site-reliability`. It is
    /// the name incidents use in `teams`.
    #[schema(schema_with = crate::vocabulary::team_slug)]
    pub name: String,
    /// The name shown to people, such as `Site Reliability`.
    pub display_name: String,
}

/// The body of `PATCH /api/v1/users/{handle}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// `viewer`, `contributor`, `reviewer` or `admin`.
    pub role: String,
}

impl Service<'_> {
    /// Finds a person by handle for a field that names one.
    pub(crate) async fn person(&self, field: &str, raw: &str) -> Result<User, ValidationError> {
        let handle = Handle::parse(raw).map_err(|e| ValidationError::new(field, e.rule()))?;
        match self.app.store.user_by_handle(&handle).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(ValidationError::new(
                field,
                format!("nobody has the handle `{handle}`"),
            )),
            Err(error) => {
                tracing::error!(%error, "looking up a handle failed");
                Err(ValidationError::new(
                    field,
                    "could not be looked up; try again",
                ))
            }
        }
    }

    /// A person named in a URL: 404 when nobody has the handle.
    pub(crate) async fn person_in_path(&self, raw: &str) -> Result<User, AppError> {
        let handle = Handle::parse(raw).map_err(|_| AppError::NotFound("person"))?;
        self.app
            .store
            .user_by_handle(&handle)
            .await?
            .ok_or(AppError::NotFound("person"))
    }

    /// A team named in a URL with its members: 404 when there is no such team.
    pub async fn team(&self, raw: &str) -> Result<(Team, Vec<User>), AppError> {
        self.require(Permission::Read, "see teams")?;
        let name = TeamName::parse(raw).map_err(|_| AppError::NotFound("team"))?;
        let team = self
            .app
            .store
            .team(&name)
            .await?
            .ok_or(AppError::NotFound("team"))?;
        let members = self.app.store.team_members(&name).await?;
        Ok((team, members))
    }

    pub async fn teams(&self) -> Result<Vec<Team>, AppError> {
        self.require(Permission::Read, "see teams")?;
        Ok(self.app.store.teams().await?)
    }

    pub async fn create_team(&self, input: TeamInput) -> Result<Team, AppError> {
        self.require(Permission::ManageTeams, "create teams")?;
        let mut errors = Collector::default();
        let name = errors.ok(TeamName::parse(&input.name));
        let display_name = errors.ok(postmortem_core::DisplayName::parse(&input.display_name)
            .map_err(|e| ValidationError::new("display_name", e.rule())));
        let (Some(name), Some(display_name)) = (name, display_name) else {
            return Err(AppError::Invalid(errors.into_errors()));
        };
        Ok(self
            .app
            .store
            .create_team(self.actor(), NewTeam { name, display_name })
            .await?)
    }

    /// Adds a person to a team, or takes them out of it.
    pub async fn set_team_member(
        &self,
        team: &str,
        handle: &str,
        member: bool,
    ) -> Result<(), AppError> {
        self.require(Permission::ManageTeams, "change who is in a team")?;
        let (team, _) = self.team(team).await?;
        let person = self.person_in_path(handle).await?;
        let store = &self.app.store;
        if member {
            store
                .add_team_member(self.actor(), &team.name, person.id)
                .await?;
        } else {
            store
                .remove_team_member(self.actor(), &team.name, person.id)
                .await?;
        }
        Ok(())
    }

    /// Everyone with an account, by handle, for admins managing roles.
    pub async fn users(&self) -> Result<Vec<User>, AppError> {
        self.require(Permission::ManagePeople, "list people and their roles")?;
        Ok(self.app.store.users().await?)
    }

    /// Gives a person another role; the store refuses to leave nobody an admin.
    pub async fn set_role(&self, handle: &str, input: RoleInput) -> Result<User, AppError> {
        self.require(Permission::ManagePeople, "change roles")?;
        let person = self.person_in_path(handle).await?;
        let role = Role::parse(&input.role)?;
        Ok(self
            .app
            .store
            .set_role(self.actor(), person.id, role)
            .await?)
    }

    /// Everyone with an account, by id, to show names instead of numbers and to offer owners
    /// and reviewers to choose from.
    pub async fn people(&self) -> Result<BTreeMap<UserId, User>, AppError> {
        Ok(self
            .app
            .store
            .users()
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }
}
