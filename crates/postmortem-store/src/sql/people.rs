//! People and teams: accounts, credentials, API tokens, sessions, sign-in throttling and
//! identity-provider sign-in, roles, teams and their members.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_people {
    ($store:ident, $db:ty, $backend:expr) => {
        const USER_COLUMNS: &str = "u.id, u.handle, u.display_name, u.role, u.created_at";
        const TEAM_COLUMNS: &str = "t.name, t.display_name, t.created_at";

        const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.label, t.created_at, t.expires_at, t.revoked_at";

        fn token_from_row(row: &DbRow) -> Result<ApiToken> {
            Ok(ApiToken {
                id: row.try_get("id")?,
                user_id: UserId::new(row.try_get("user_id")?),
                label: row.try_get("label")?,
                created_at: from_ms(row.try_get("created_at")?)?,
                expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_ms).transpose()?,
                revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms).transpose()?,
            })
        }

        fn user_from_row(row: &DbRow) -> Result<User> {
            Ok(User {
                id: UserId::new(row.try_get("id")?),
                handle: stored(Handle::parse(row.try_get::<String, _>("handle")?))?,
                display_name: DisplayName::from_stored(row.try_get::<String, _>("display_name")?),
                role: stored(Role::parse(&row.try_get::<String, _>("role")?))?,
                created_at: from_ms(row.try_get("created_at")?)?,
            })
        }

        fn team_from_row(row: &DbRow) -> Result<Team> {
            Ok(Team {
                name: stored(TeamName::parse(row.try_get::<String, _>("name")?))?,
                display_name: DisplayName::from_stored(row.try_get::<String, _>("display_name")?),
                created_at: from_ms(row.try_get("created_at")?)?,
            })
        }

        impl $store {
            /// Inserts a person, and the identity-provider account they sign in with when
            /// there is one, and records both in the audit log as one `user.create` event.
            async fn insert_user(
                tx: &mut Tx,
                now: OffsetDateTime,
                actor: Actor,
                user: NewUser,
                identity: Option<&ExternalIdentity>,
            ) -> Result<User> {
                let id: i64 = sqlx::query_scalar("INSERT INTO users (handle, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(user.handle.as_str())
                    .bind(user.display_name.as_str())
                    .bind(user.role.as_str())
                    .bind(user.password_hash.as_deref())
                    .bind(to_ms(now))
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(|e| StoreError::or_duplicate(e, || format!("the handle `{}` is taken", user.handle)))?;
                // Whether a password was set, never the hash.
                let mut details = serde_json::json!({"user_id": id, "before": null, "after": {
                    "handle": user.handle.as_str(), "display_name": user.display_name.as_str(), "role": user.role.as_str(),
                    "password_set": user.password_hash.is_some(),
                }});
                if let Some(identity) = identity {
                    sqlx::query("INSERT INTO external_identities (issuer, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&identity.issuer)
                        .bind(&identity.subject)
                        .bind(id)
                        .bind(identity.email.as_deref())
                        .bind(to_ms(now))
                        .execute(&mut **tx)
                        .await
                        .map_err(|e| StoreError::or_duplicate(e, || format!("the identity `{}` of {} already belongs to an account", identity.subject, identity.issuer)))?;
                    details["after"]["identity"] = serde_json::json!({"issuer": identity.issuer, "subject": identity.subject, "email": identity.email});
                }
                Self::record(tx, now, actor, "user.create", None, "user", "create", details).await?;
                Ok(User { id: UserId::new(id), handle: user.handle, display_name: user.display_name, role: user.role, created_at: from_ms(to_ms(now))? })
            }

            /// The user a secret (API token or session) belongs to, while it is live. `from_where`
            /// joins the secret's table to `users u` and filters on `$1` (the hash) and `$2` (now).
            async fn user_by_live_secret(&self, from_where: &str, secret_hash: &str) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} {from_where}"))
                    .bind(secret_hash)
                    .bind(to_ms(self.clock.now()))
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }

            /// Adds (`INSERT`) or removes (`DELETE`) a team member in one audited transaction.
            async fn change_team_member(&self, actor: Actor, team: &TeamName, user: UserId, statement: &str, action: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let exists: Option<String> = sqlx::query_scalar("SELECT name FROM teams WHERE name = $1")
                    .bind(team.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound("team"));
                }
                let changed = sqlx::query(statement)
                    .bind(team.as_str())
                    .bind(user.get())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound("user"),
                        _ => StoreError::Database(e),
                    })?;
                if changed.rows_affected() > 0 {
                    // Readers of restricted incidents that name the team change with it, so
                    // followers (the search index, its caches) hear of it through the feed.
                    let details = serde_json::json!({"team": team.as_str(), "user_id": user.get()});
                    Self::record(&mut tx, now, actor, action, None, "team", "update", details).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_user(&self, actor: Actor, user: NewUser) -> Result<User> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let created = Self::insert_user(&mut tx, now, actor, user, None).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn count_users(&self) -> Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(self.reader()).await?)
            }

            async fn user(&self, id: UserId) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
                    .bind(id.get())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }

            async fn user_by_handle(&self, handle: &Handle) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.handle = $1"))
                    .bind(handle.as_str())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }

            async fn users(&self) -> Result<Vec<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.handle"))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(user_from_row)
                    .collect()
            }

            async fn credentials(&self, handle: &Handle) -> Result<Option<(User, Option<String>)>> {
                let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.handle = $1"))
                    .bind(handle.as_str())
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?))).transpose()
            }

            async fn set_password_hash(&self, actor: Actor, user: UserId, hash: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let had_password: bool = sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM users WHERE id = $1")
                    .bind(user.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user.get())
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                // That the password changed, never either hash.
                let details = serde_json::json!({"user_id": user.get(), "before": {"password_set": had_password}, "after": {"password_set": true, "password_changed": true}});
                Self::record(&mut tx, now, actor, "user.password", None, "user", "update", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_api_token(&self, actor: Actor, token: NewApiToken) -> Result<i64> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let id: i64 = sqlx::query_scalar("INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(token.user_id.get())
                    .bind(&token.token_hash)
                    .bind(&token.label)
                    .bind(to_ms(now))
                    .bind(token.expires_at.map(to_ms))
                    .fetch_one(&mut *tx)
                    .await?;
                // What the token is for and until when, never its hash.
                let details = serde_json::json!({"token_id": id, "before": null, "after": {
                    "user_id": token.user_id.get(), "label": token.label, "expires_at": token.expires_at.map(rfc3339),
                }});
                Self::record(&mut tx, now, actor, "token.create", None, "token", "create", details).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>> {
                self.user_by_live_secret(
                    "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
                    token_hash,
                )
                .await
            }

            async fn create_session(&self, session: NewSession) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(to_ms(now)).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO sessions (session_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(&session.session_hash)
                    .bind(session.user_id.get())
                    .bind(to_ms(now))
                    .bind(to_ms(session.expires_at))
                    .execute(&mut *tx)
                    .await?;
                // Who signed in and until when, never the session id or its hash.
                let details = serde_json::json!({"before": null, "after": {"user_id": session.user_id.get(), "expires_at": rfc3339(session.expires_at)}});
                Self::record(&mut tx, now, Actor::user(session.user_id), "session.create", None, "session", "create", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user_by_session_hash(&self, session_hash: &str) -> Result<Option<User>> {
                self.user_by_live_secret(
                    "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_hash = $1 AND s.expires_at > $2",
                    session_hash,
                )
                .await
            }

            async fn delete_session(&self, session_hash: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let signed_out: Option<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE session_hash = $1 RETURNING user_id")
                    .bind(session_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(user_id) = signed_out {
                    let details = serde_json::json!({"before": {"user_id": user_id}, "after": null});
                    Self::record(&mut tx, now, Actor::user(UserId::new(user_id)), "session.delete", None, "session", "delete", details).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn save_pending_sign_in(&self, pending: PendingSignIn) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("DELETE FROM oidc_sign_ins WHERE expires_at <= $1").bind(to_ms(self.clock.now())).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO oidc_sign_ins (state_hash, nonce, pkce_verifier, next_path, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&pending.state_hash)
                    .bind(&pending.nonce)
                    .bind(&pending.pkce_verifier)
                    .bind(&pending.next_path)
                    .bind(to_ms(pending.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::or_duplicate(e, || "this sign-in has already started".to_owned()))?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_pending_sign_in(&self, state_hash: &str) -> Result<Option<PendingSignIn>> {
                let row = sqlx::query("DELETE FROM oidc_sign_ins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, next_path, expires_at")
                    .bind(state_hash)
                    .fetch_optional(self.writer())
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let expires_at = from_ms(row.try_get("expires_at")?)?;
                if expires_at <= self.clock.now() {
                    return Ok(None);
                }
                Ok(Some(PendingSignIn {
                    state_hash: state_hash.to_owned(),
                    nonce: row.try_get("nonce")?,
                    pkce_verifier: row.try_get("pkce_verifier")?,
                    next_path: row.try_get("next_path")?,
                    expires_at,
                }))
            }

            async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM external_identities x JOIN users u ON u.id = x.user_id WHERE x.issuer = $1 AND x.subject = $2"))
                    .bind(issuer)
                    .bind(subject)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }

            async fn create_user_with_identity(&self, actor: Actor, user: NewUser, identity: ExternalIdentity) -> Result<User> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let created = Self::insert_user(&mut tx, now, actor, user, Some(&identity)).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn api_tokens(&self, owner: Option<UserId>) -> Result<Vec<ApiToken>> {
                sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE $1 IS NULL OR t.user_id = $1 ORDER BY t.id DESC"))
                    .bind(owner.map(UserId::get))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(token_from_row)
                    .collect()
            }

            async fn api_token(&self, id: i64) -> Result<Option<ApiToken>> {
                sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(token_from_row)
                    .transpose()
            }

            async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
                sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.token_hash = $1"))
                    .bind(token_hash)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(token_from_row)
                    .transpose()
            }

            async fn revoke_api_token(&self, actor: Actor, id: i64) -> Result<ApiToken> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let row = sqlx::query(&format!("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING {}", TOKEN_COLUMNS.replace("t.", "")))
                    .bind(id)
                    .bind(to_ms(now))
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("token"))?;
                let token = token_from_row(&row)?;
                // The label and state, never the hash.
                let details = serde_json::json!({"token_id": id, "user_id": token.user_id.get(), "before": {"label": token.label, "revoked": false}, "after": {"label": token.label, "revoked": true}});
                Self::record(&mut tx, now, actor, "token.revoke", None, "token", "update", details).await?;
                tx.commit().await?;
                Ok(token)
            }

            async fn login_locked_until(&self, subject: &str) -> Result<Option<OffsetDateTime>> {
                let until: Option<Option<i64>> = sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE subject = $1 AND locked_until > $2")
                    .bind(subject)
                    .bind(to_ms(self.clock.now()))
                    .fetch_optional(self.reader())
                    .await?;
                until.flatten().map(from_ms).transpose()
            }

            async fn record_login_failure(&self, subject: &str, policy: &LockoutPolicy) -> Result<Option<OffsetDateTime>> {
                let now = self.clock.now();
                let forget_before = to_ms(now - policy.forget_after);
                let mut tx = self.writer().begin().await?;
                // Old failures of every subject go, so the table holds only recent ones.
                sqlx::query("DELETE FROM login_failures WHERE last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)")
                    .bind(forget_before)
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                // The upsert locks the subject's row, so concurrent failures on several nodes
                // each count once.
                let failures: i64 = sqlx::query_scalar(
                    "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES ($1, 1, $2) \
                     ON CONFLICT (subject) DO UPDATE SET failures = login_failures.failures + 1, last_failure_at = $2 \
                     RETURNING failures",
                )
                .bind(subject)
                .bind(to_ms(now))
                .fetch_one(&mut *tx)
                .await?;
                let locked_until = policy.lockout_after(failures).map(|lockout| now + lockout);
                if let Some(until) = locked_until {
                    sqlx::query("UPDATE login_failures SET locked_until = $2 WHERE subject = $1")
                        .bind(subject)
                        .bind(to_ms(until))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                locked_until.map(|until| from_ms(to_ms(until))).transpose()
            }

            async fn clear_login_failures(&self, subject: &str) -> Result<()> {
                sqlx::query("DELETE FROM login_failures WHERE subject = $1").bind(subject).execute(self.writer()).await?;
                Ok(())
            }

            async fn set_role(&self, actor: Actor, user: UserId, role: Role) -> Result<User> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                // Lock the admins' rows first (a no-op update, valid in both backends): on
                // PostgreSQL two admins demoting each other at once would otherwise both see
                // another admin left.
                sqlx::query("UPDATE users SET role = role WHERE role = $1")
                    .bind(Role::Admin.as_str())
                    .execute(&mut *tx)
                    .await?;
                let before = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
                    .bind(user.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound("user"))?;
                if before.role == Role::Admin && role != Role::Admin {
                    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = $1")
                        .bind(Role::Admin.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                    if admins <= 1 {
                        return Err(StoreError::Invalid(postmortem_core::ValidationError::new(
                            "role",
                            format!("`{}` is the last admin; make someone else an admin first", before.handle),
                        )));
                    }
                }
                sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                    .bind(user.get())
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await?;
                let details = serde_json::json!({"user_id": user.get(), "before": {"role": before.role.as_str()}, "after": {"role": role.as_str()}});
                Self::record(&mut tx, now, actor, "user.role", None, "user", "update", details).await?;
                tx.commit().await?;
                Ok(User { role, ..before })
            }

            async fn create_team(&self, actor: Actor, team: NewTeam) -> Result<Team> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                sqlx::query("INSERT INTO teams (name, display_name, created_at) VALUES ($1, $2, $3)")
                    .bind(team.name.as_str())
                    .bind(team.display_name.as_str())
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::or_duplicate(e, || format!("the team `{}` exists already", team.name)))?;
                let details = serde_json::json!({"after": {"team": team.name.as_str(), "display_name": team.display_name.as_str()}});
                Self::record(&mut tx, now, actor, "team.create", None, "team", "create", details).await?;
                tx.commit().await?;
                Ok(Team { name: team.name, display_name: team.display_name, created_at: from_ms(to_ms(now))? })
            }

            async fn teams(&self) -> Result<Vec<Team>> {
                sqlx::query(&format!("SELECT {TEAM_COLUMNS} FROM teams t ORDER BY t.name"))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(team_from_row)
                    .collect()
            }

            async fn team(&self, name: &TeamName) -> Result<Option<Team>> {
                sqlx::query(&format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.name = $1"))
                    .bind(name.as_str())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(team_from_row)
                    .transpose()
            }

            async fn team_members(&self, name: &TeamName) -> Result<Vec<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM team_members tm JOIN users u ON u.id = tm.user_id WHERE tm.team = $1 ORDER BY u.handle"))
                    .bind(name.as_str())
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(user_from_row)
                    .collect()
            }

            async fn teams_of(&self, user: UserId) -> Result<Vec<TeamName>> {
                sqlx::query_scalar::<_, String>("SELECT team FROM team_members WHERE user_id = $1 ORDER BY team")
                    .bind(user.get())
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(|name| stored(TeamName::parse(name)))
                    .collect()
            }

            async fn add_team_member(&self, actor: Actor, team: &TeamName, user: UserId) -> Result<()> {
                self.change_team_member(actor, team, user, "INSERT INTO team_members (team, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", "team.member.add").await
            }

            async fn remove_team_member(&self, actor: Actor, team: &TeamName, user: UserId) -> Result<()> {
                self.change_team_member(actor, team, user, "DELETE FROM team_members WHERE team = $1 AND user_id = $2", "team.member.remove").await
            }
        }
    };
}
