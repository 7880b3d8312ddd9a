//! Accounts: password hashing (argon2id), API tokens and session secrets (random, stored only
//! as SHA-256 hashes), and creating a person with their credentials in one call.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use postmortem_core::{DisplayName, Handle, Role, User, ValidationError};
use postmortem_store::{Actor, NewApiToken, NewUser, Store, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The shortest password accepted. Length beats composition rules for resisting guessing.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Argon2 has a cost per byte; very long inputs are refused rather than hashed.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Every API token starts with this, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "pm_";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Checks the password rules: at least 10 characters, at most 1024 bytes.
pub fn check_password(password: &str) -> Result<(), ValidationError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!(
                "must be at least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a good one"
            ),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ValidationError::new(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id and its default parameters (19 MiB, 2 passes, 1 lane),
/// which is the OWASP recommendation; the result is a PHC string carrying salt and parameters.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    check_password(password)?;
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
                    expires_at: None,
                },
            )
            .await?;
        Some(token)
    } else {
        None
    };
    Ok((user, token))
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

    #[test]
    fn short_passwords_are_refused_with_the_rule() {
        let error = check_password("short").unwrap_err();
        assert_eq!(error.field(), "password");
        assert!(error.rule().contains("at least 10 characters"));
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
