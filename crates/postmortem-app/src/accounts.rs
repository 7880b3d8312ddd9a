//! Accounts: password hashing (argon2id), API tokens and session secrets (random, stored only
//! as SHA-256 hashes), and creating a person with their credentials in one call.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use postmortem_core::{DisplayName, Handle, Role, User, ValidationError};
use postmortem_store::{Actor, ApiToken, NewApiToken, NewUser, Store, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The shortest password accepted. Length beats composition rules for resisting guessing.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Argon2 has a cost per byte; very long inputs are refused rather than hashed.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Every API token starts with this, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "pm_";
/// How long a token made through the API or the account page lasts unless asked otherwise.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
/// The longest a token made through the API or the account page may last.
pub const MAX_TOKEN_DAYS: i64 = 366;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Checks the password rules: at least 10 characters, at most 1024 bytes, not one character
/// repeated, and not containing the person's handle or name (the first things an attacker
/// tries).
pub fn check_password(
    password: &str,
    handle: &Handle,
    display_name: &DisplayName,
) -> Result<(), ValidationError> {
    let refuse = |rule: String| Err(ValidationError::new("password", rule));
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return refuse(format!(
            "must be at least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a good one"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return refuse(format!("must be at most {MAX_PASSWORD_BYTES} bytes"));
    }
    let folded = password.to_lowercase();
    let mut chars = folded.chars();
    if chars.next().is_some_and(|first| chars.all(|c| c == first)) {
        return refuse("must not be one character repeated".to_owned());
    }
    let name = display_name.as_str().to_lowercase();
    if folded.contains(handle.as_str()) || (name.chars().count() >= 3 && folded.contains(&name)) {
        return refuse("must not contain your handle or your name".to_owned());
    }
    Ok(())
}

/// Hashes a password with argon2id and its default parameters (19 MiB, 2 passes, 1 lane),
/// which is the OWASP recommendation; the result is a PHC string carrying salt and parameters.
/// The caller checks the rules first ([`check_password`]).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

/// Whether `password` matches a stored PHC hash. A malformed hash never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A fresh random secret: 32 bytes from the OS, base64url.
pub fn new_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token, shown once to its owner.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", new_secret())
}

/// What is stored of a token or a session secret. Tokens are random and long, so a fast
/// hash is enough: there is nothing to brute-force.
pub fn secret_hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A person to create, as the CLI or an admin asks for them.
#[derive(Debug)]
pub struct NewAccount {
    pub handle: String,
    pub display_name: String,
    pub role: String,
    pub password: Option<String>,
    /// Also create an API token and return it.
    pub with_token: bool,
    /// How long that token lasts; `None` for a token that does not expire.
    pub token_days: Option<u32>,
}

/// Creates a person, hashing their password, and optionally a first API token (returned in
/// clear exactly once).
pub async fn create_account(
    store: &dyn Store,
    actor: Actor,
    account: NewAccount,
) -> Result<(User, Option<String>), AccountError> {
    let handle = Handle::parse(&account.handle)?;
    let display_name = DisplayName::parse(&account.display_name)?;
    let role = Role::parse(&account.role)?;
    if let Some(password) = &account.password {
        check_password(password, &handle, &display_name)?;
    }
    let password_hash = account.password.as_deref().map(hash_password).transpose()?;
    let user = store
        .create_user(
            actor,
            NewUser {
                handle,
                display_name,
                role,
                password_hash,
            },
        )
        .await?;
    let token = if account.with_token {
        let token = new_token();
        store
            .create_api_token(
                actor,
                NewApiToken {
                    user_id: user.id,
                    token_hash: secret_hash(&token),
                    label: "created with the account".to_owned(),
                    expires_at: account
                        .token_days
                        .map(|days| store.now() + time::Duration::days(i64::from(days))),
                },
            )
            .await?;
        Some(token)
    } else {
        None
    };
    Ok((user, token))
}

impl crate::Service<'_> {
    /// Creates a person with their credentials, as an admin or a system actor of admin role
    /// (`system:accounts` for `postmortem user create`, `system:demo` for the demo's people).
    pub async fn create_account(
        &self,
        account: NewAccount,
    ) -> Result<(User, Option<String>), crate::AppError> {
        self.require(postmortem_core::Permission::ManagePeople, "create accounts")?;
        Ok(create_account(self.app.store.as_ref(), self.actor(), account).await?)
    }
}

/// A token someone asks for: a label to recognise it by, and how many days it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    label: String,
    days: i64,
}

impl TokenRequest {
    /// Parses a label (1 to 100 characters on one line) and a lifetime in days (1 to 366,
    /// 90 when not given), reporting every field that is wrong.
    pub fn parse(label: &str, days: Option<i64>) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        if let Err(error) = postmortem_core::check_line("label", label) {
            errors.push(error);
        }
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            errors.push(ValidationError::new(
                "label",
                "must be 1 to 100 characters on one line, such as `laptop` or `CI deploy job`",
            ));
        }
        let days = days.unwrap_or(DEFAULT_TOKEN_DAYS);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            errors.push(ValidationError::new(
                "expires_in_days",
                format!("must be a whole number of days from 1 to {MAX_TOKEN_DAYS}"),
            ));
        }
        if errors.is_empty() {
            Ok(Self {
                label: label.to_owned(),
                days,
            })
        } else {
            Err(errors)
        }
    }
}

/// Creates a token for `owner`: its record, and the secret, which is shown this once.
pub async fn create_token(
    store: &dyn Store,
    owner: &User,
    request: TokenRequest,
) -> Result<(ApiToken, String), AccountError> {
    let secret = new_token();
    let id = store
        .create_api_token(
            Actor::user(owner.id),
            NewApiToken {
                user_id: owner.id,
                token_hash: secret_hash(&secret),
                label: request.label,
                expires_at: Some(store.now() + time::Duration::days(request.days)),
            },
        )
        .await?;
    let token = store
        .api_token(id)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    Ok((token, secret))
}

/// Revokes a token. Its owner may, and admins may revoke anyone's; for anyone else the
/// token does not exist, so its id reveals nothing.
pub async fn revoke_token(store: &dyn Store, by: &User, id: i64) -> Result<ApiToken, AccountError> {
    store
        .api_token(id)
        .await?
        .filter(|token| token.user_id == by.id || by.role.is_admin())
        .ok_or(StoreError::NotFound("token"))?;
    Ok(store.revoke_api_token(Actor::user(by.id), id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    fn dana() -> (Handle, DisplayName) {
        (
            Handle::parse("dana.lee").unwrap(),
            DisplayName::parse("Dana").unwrap(),
        )
    }

    #[test]
    fn short_passwords_are_refused_with_the_rule() {
        let (handle, name) = dana();
        let error = check_password("short", &handle, &name).unwrap_err();
        assert_eq!(error.field(), "password");
        assert!(error.rule().contains("at least 10 characters"));
    }

    #[test]
    fn a_password_that_is_one_repeated_character_or_holds_the_handle_or_name_is_refused() {
        let (handle, name) = dana();
        for (password, rule) in [
            ("aaaaaaaaaaaa", "one character repeated"),
            ("Dana.Lee2026!", "your handle or your name"),
            ("i am dana and i sign in", "your handle or your name"),
        ] {
            let error = check_password(password, &handle, &name).unwrap_err();
            assert!(error.rule().contains(rule), "{password}: {}", error.rule());
        }
        assert!(check_password("correct horse battery", &handle, &name).is_ok());
    }

    #[test]
    fn a_token_request_needs_a_label_and_a_lifetime_within_bounds() {
        assert_eq!(
            TokenRequest::parse(" laptop ", None).unwrap(),
            TokenRequest {
                label: "laptop".into(),
                days: 90
            }
        );
        let errors = TokenRequest::parse("", Some(0)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(ValidationError::field).collect();
        assert_eq!(fields, ["label", "expires_in_days"]);
        assert!(TokenRequest::parse("ci", Some(367)).is_err());
        assert!(TokenRequest::parse("ci", Some(366)).is_ok());
    }

    #[test]
    fn tokens_are_long_random_and_recognisable() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("pm_") && a.len() >= 40);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_eq!(secret_hash(&a).len(), 64);
    }
}
