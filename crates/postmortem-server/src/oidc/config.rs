//! The `[oidc]` table of `postmortem.toml`, and its parsed form: everything is checked once at
//! start, so a typo in a URL or a role stops the server with a message naming the key.

use openidconnect::{ClientId, ClientSecret, IssuerUrl, RedirectUrl};
use postmortem_core::{Role, ValidationError};
use serde::Deserialize;

/// Where the provider sends people back to, under the server's public base URL.
pub const CALLBACK_PATH: &str = "/login/oidc/callback";
const DEFAULT_BUTTON_LABEL: &str = "Sign in with single sign-on";
const MAX_BUTTON_LABEL_CHARS: usize = 60;

/// The `[oidc]` table as written. Every key is optional here so that flags and
/// `POSTMORTEM_OIDC_*` variables can fill or override it before [`OidcConfig::check`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer: the URL before `/.well-known/openid-configuration`.
    pub issuer_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The server's public base URL, as people's browsers reach it.
    pub base_url: Option<String>,
    /// The text of the sign-in button, e.g. "Sign in with Acme SSO".
    pub button_label: Option<String>,
    /// The role of a person created at their first sign-in; `viewer` by default.
    pub default_role: Option<String>,
    /// When set, only people whose verified email is in one of these domains may sign in.
    pub allowed_email_domains: Option<Vec<String>>,
}

/// A checked `[oidc]` table.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub client_secret: ClientSecret,
    pub redirect_url: RedirectUrl,
    pub button_label: String,
    pub default_role: Role,
    /// Lowercase domains; empty means any.
    pub allowed_email_domains: Vec<String>,
}

impl OidcConfig {
    /// This table with every key `other` sets taken from `other`: flags and environment
    /// variables over the file.
    #[must_use]
    pub fn overridden_by(self, other: OidcConfig) -> OidcConfig {
        OidcConfig {
            issuer_url: other.issuer_url.or(self.issuer_url),
            client_id: other.client_id.or(self.client_id),
            client_secret: other.client_secret.or(self.client_secret),
            base_url: other.base_url.or(self.base_url),
            button_label: other.button_label.or(self.button_label),
            default_role: other.default_role.or(self.default_role),
            allowed_email_domains: other.allowed_email_domains.or(self.allowed_email_domains),
        }
    }

    /// Whether any key is set, i.e. whether sign-in through a provider is wanted at all.
    pub fn is_set(&self) -> bool {
        *self != OidcConfig::default()
    }

    /// Checks every key and returns the settings, or the first problem with the key's name.
    pub fn check(self) -> Result<OidcSettings, ValidationError> {
        let issuer_url = required(
            self.issuer_url,
            "issuer_url",
            "the provider's issuer, the URL before /.well-known/openid-configuration (e.g. https://login.acme.example/realms/main)",
        )?;
        web_url("issuer_url", &issuer_url)?;
        // The issuer is compared as a string with the one the provider announces, so it is
        // kept exactly as written (a parsed URL would gain a trailing `/`).
        let issuer = IssuerUrl::new(issuer_url.clone())
            .map_err(|e| ValidationError::new("issuer_url", format!("is not a URL: {e}")))?;
        let client_id = required(
            self.client_id,
            "client_id",
            "the client id the provider gave this server",
        )?;
        let client_secret = required(
            self.client_secret,
            "client_secret",
            "the client secret the provider gave this server (or set POSTMORTEM_OIDC_CLIENT_SECRET)",
        )?;
        let base_url = required(
            self.base_url,
            "base_url",
            "this server's public URL as browsers reach it (e.g. https://postmortem.acme.example)",
        )?;
        let base = web_url("base_url", &base_url)?;
        if base.query().is_some() || base.fragment().is_some() {
            return Err(ValidationError::new(
                "base_url",
                "must be a plain base URL without `?` or `#`",
            ));
        }
        let redirect = format!("{}{CALLBACK_PATH}", base_url.trim().trim_end_matches('/'));
        let redirect_url = RedirectUrl::new(redirect)
            .map_err(|e| ValidationError::new("base_url", format!("is not a URL: {e}")))?;
        let button_label = match self.button_label {
            None => DEFAULT_BUTTON_LABEL.to_owned(),
            Some(label) => {
                let label = label.trim().to_owned();
                if label.is_empty()
                    || label.chars().count() > MAX_BUTTON_LABEL_CHARS
                    || label.chars().any(char::is_control)
                {
                    return Err(ValidationError::new(
                        "button_label",
                        format!(
                            "must be 1 to {MAX_BUTTON_LABEL_CHARS} characters on one line, e.g. \"Sign in with Acme SSO\""
                        ),
                    ));
                }
                label
            }
        };
        let default_role = match self.default_role {
            None => Role::Viewer,
            Some(role) => Role::parse(role.trim())
                .map_err(|e| ValidationError::new("default_role", e.rule()))?,
        };
        let allowed_email_domains = self
            .allowed_email_domains
            .unwrap_or_default()
            .iter()
            .map(|domain| email_domain(domain))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OidcSettings {
            issuer,
            client_id: ClientId::new(client_id),
            client_secret: ClientSecret::new(client_secret),
            redirect_url,
            button_label,
            default_role,
            allowed_email_domains,
        })
    }
}

impl OidcSettings {
    /// Whether a verified email may sign in under `allowed_email_domains`.
    pub fn allows_email(&self, email: &str) -> bool {
        self.allowed_email_domains.is_empty()
            || email.rsplit_once('@').is_some_and(|(_, domain)| {
                self.allowed_email_domains
                    .iter()
                    .any(|allowed| domain.eq_ignore_ascii_case(allowed))
            })
    }
}

fn required(
    value: Option<String>,
    key: &'static str,
    what: &str,
) -> Result<String, ValidationError> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ValidationError::new(key, format!("is missing: set it to {what}")))
}

fn web_url(key: &'static str, raw: &str) -> Result<openidconnect::url::Url, ValidationError> {
    let url = openidconnect::url::Url::parse(raw.trim()).map_err(|e| {
        ValidationError::new(
            key,
            format!("`{raw}` is not a URL ({e}); write it in full, e.g. https://sso.acme.example"),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(ValidationError::new(
            key,
            format!("`{raw}` must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(url)
}

fn email_domain(raw: &str) -> Result<String, ValidationError> {
    let domain = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    let valid = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if valid {
        Ok(domain)
    } else {
        Err(ValidationError::new(
            "allowed_email_domains",
            format!("`{raw}` is not a domain name; list domains like \"acme.example\""),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> OidcConfig {
        OidcConfig {
            issuer_url: Some("https://sso.acme.example/realms/main".into()),
            client_id: Some("postmortem".into()),
            client_secret: Some("s3cret".into()),
            base_url: Some("https://postmortem.acme.example/".into()),
            ..OidcConfig::default()
        }
    }

    #[test]
    fn a_complete_table_gives_the_callback_under_the_base_url_and_viewer_by_default() {
        let settings = complete().check().unwrap();
        assert_eq!(
            settings.redirect_url.as_str(),
            "https://postmortem.acme.example/login/oidc/callback"
        );
        assert_eq!(settings.default_role, Role::Viewer);
        assert_eq!(settings.button_label, "Sign in with single sign-on");
        assert!(settings.allows_email("anyone@anywhere.example"));
    }

    #[test]
    fn a_missing_key_is_named_with_what_to_set_it_to() {
        let error = OidcConfig {
            client_secret: None,
            ..complete()
        }
        .check()
        .unwrap_err();
        assert_eq!(error.field(), "client_secret");
        assert!(
            error.rule().contains("POSTMORTEM_OIDC_CLIENT_SECRET"),
            "{error}"
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_key() {
        let refused = |config: OidcConfig| config.check().unwrap_err().field().to_owned();
        assert_eq!(
            refused(OidcConfig {
                issuer_url: Some("sso.acme.example".into()),
                ..complete()
            }),
            "issuer_url"
        );
        assert_eq!(
            refused(OidcConfig {
                base_url: Some("ftp://files.example".into()),
                ..complete()
            }),
            "base_url"
        );
        assert_eq!(
            refused(OidcConfig {
                default_role: Some("owner".into()),
                ..complete()
            }),
            "default_role"
        );
        assert_eq!(
            refused(OidcConfig {
                allowed_email_domains: Some(vec!["ada@acme.example".into()]),
                ..complete()
            }),
            "allowed_email_domains"
        );
        assert_eq!(
            refused(OidcConfig {
                button_label: Some(" ".into()),
                ..complete()
            }),
            "button_label"
        );
    }

    #[test]
    fn allowed_domains_match_the_whole_domain_in_any_case() {
        let settings = OidcConfig {
            allowed_email_domains: Some(vec!["@Acme.example".into()]),
            ..complete()
        }
        .check()
        .unwrap();
        assert!(settings.allows_email("ada@ACME.example"));
        assert!(!settings.allows_email("ada@notacme.example"));
        assert!(!settings.allows_email("ada@acme.example.evil"));
        assert!(!settings.allows_email("no-at-sign"));
    }

    #[test]
    fn flags_override_the_file_key_by_key() {
        let file = complete();
        let flags = OidcConfig {
            client_secret: Some("from-env".into()),
            ..OidcConfig::default()
        };
        let merged = file.overridden_by(flags);
        assert_eq!(merged.client_secret.as_deref(), Some("from-env"));
        assert_eq!(merged.client_id.as_deref(), Some("postmortem"));
        assert!(merged.is_set());
        assert!(!OidcConfig::default().is_set());
    }
}
