//! Configuration in layers: built-in defaults, then `postmortem.toml`, then `POSTMORTEM_*`
//! environment variables, then command-line flags (clap reads the last two).

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./postmortem-data";
pub const DEFAULT_FILE: &str = "postmortem.toml";

/// What `postmortem.toml` may say. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub addr: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// This node's search index; `<data_dir>/search-index` by default.
    pub index_dir: Option<PathBuf>,
    #[serde(default)]
    pub server: ServerConfig,
    /// When a post-mortem is owed; the built-in rules when absent.
    #[serde(default)]
    pub policy: postmortem_core::policy::PolicyConfig,
    /// Severities and allowed words of the blameless-language checker.
    #[serde(default)]
    pub lint: postmortem_lint::LintConfig,
    /// Reminders, the weekly digest, webhooks and email; off when absent.
    pub notify: Option<postmortem_notify::NotifyConfig>,
    /// Custom post-mortem templates beside `full` and `lightweight`.
    #[serde(default)]
    pub templates: Vec<postmortem_core::TemplateConfig>,
    /// Sign-in through an identity provider (OpenID Connect); off when absent.
    pub oidc: Option<postmortem_server::oidc::OidcConfig>,
    /// Webhooks received from alerting and deploy tools.
    #[serde(default)]
    pub integrations: IntegrationsConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationsConfig {
    /// How many days received webhook bodies are kept for admins to read and replay (30).
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Mark session cookies `Secure` (set this when users reach the server over HTTPS).
    pub cookie_secure: Option<bool>,
    /// How long a browser session lasts, in hours.
    pub session_hours: Option<i64>,
    /// The header a trusted reverse proxy puts the client's address in (`X-Forwarded-For`).
    pub client_address_header: Option<String>,
}

impl Config {
    /// Reads the file named, or `postmortem.toml` when present; a missing default file is
    /// fine, a missing named file or one that does not parse is an error naming the file.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let (path, required) = match path {
            Some(path) => (path.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_FILE), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        Self::parse(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// How long webhook bodies are kept: `[integrations] retention_days`, 30 days unless set.
    pub fn hook_retention(&self) -> anyhow::Result<postmortem_app::HookRetention> {
        match self.integrations.retention_days {
            Some(days) => postmortem_app::HookRetention::days(days)
                .map_err(|e| anyhow::anyhow!("[integrations] {e}")),
            None => Ok(postmortem_app::HookRetention::default()),
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        // toml's message names the line and column and the offending key; keep it on one line.
        let config: Self = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!(e.to_string().replace('\n', " ").trim().to_owned()))?;
        // What types cannot say (unique names, templates the policy names) is checked here
        // too, so every command refuses such a file at start, naming it.
        let templates = config.templates()?;
        config.hook_retention()?;
        postmortem_core::policy::Policy::from_config(config.policy.clone())?
            .check_templates(&templates)?;
        Ok(config)
    }

    /// The organisation's rules the app layer applies, as the server reads them.
    pub fn rules(&self) -> anyhow::Result<postmortem_app::Rules> {
        Ok(postmortem_app::Rules {
            severity_levels: postmortem_core::Severity::DEFAULT_LEVELS,
            policy: postmortem_core::policy::Policy::from_config(self.policy.clone())
                .context("the [policy] table of the configuration is not valid")?,
            lint: self.lint.clone(),
            templates: self.templates()?,
            hook_retention: self.hook_retention()?,
        })
    }

    /// The templates in force: the built-in ones and the `[[templates]]` of the file.
    pub fn templates(&self) -> anyhow::Result<postmortem_core::Templates> {
        Ok(postmortem_core::Templates::from_config(
            self.templates.clone(),
        )?)
    }

    /// The search index directory: the flag or environment, then the file, then
    /// `search-index` in the data directory. Each node keeps its own index.
    pub fn index_dir(&self, flag: Option<&Path>, data_dir_flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| self.index_dir.clone())
            .unwrap_or_else(|| {
                data_dir_flag
                    .map(Path::to_path_buf)
                    .or_else(|| self.data_dir.clone())
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
                    .join("search-index")
            })
    }

    /// Where chat exports uploaded on the chat selection page wait between its steps:
    /// `uploads` in the data directory (each node keeps its own, like the search index).
    pub fn upload_dir(&self, data_dir_flag: Option<&Path>) -> PathBuf {
        data_dir_flag
            .map(Path::to_path_buf)
            .or_else(|| self.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
            .join("uploads")
    }

    /// The database URL: the flag or environment, then the file, then SQLite in the data
    /// directory (created if missing).
    pub fn database_url(
        &self,
        flag: Option<&str>,
        data_dir_flag: Option<&Path>,
    ) -> anyhow::Result<(String, Option<PathBuf>)> {
        if let Some(url) = flag
            .map(str::to_owned)
            .or_else(|| self.database_url.clone())
        {
            return Ok((url, None));
        }
        let data_dir = data_dir_flag
            .map(Path::to_path_buf)
            .or_else(|| self.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let db = data_dir.join("postmortem.db");
        Ok((format!("sqlite://{}", db.display()), Some(data_dir)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_is_refused_with_its_line() {
        let error = Config::parse("addr = \"127.0.0.1:9000\"\ndatabse_url = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("databse_url"), "{error}");
    }

    #[test]
    fn a_policy_rule_with_an_unknown_field_is_refused_with_its_line() {
        let text = "[policy]\n[[policy.rules]]\nname = \"x\"\ndecision = \"required\"\nwhen = { minutes = 30 }\n";
        let error = Config::parse(text).unwrap_err().to_string();
        assert!(error.contains("line 5"), "{error}");
        assert!(error.contains("minutes"), "{error}");
    }

    #[test]
    fn a_policy_comparing_a_number_with_text_is_refused_with_its_line() {
        let text = "[policy]\n[[policy.rules]]\nname = \"x\"\ndecision = \"required\"\nwhen = { customer_minutes = \"thirty\" }\n";
        let error = Config::parse(text).unwrap_err().to_string();
        assert!(error.contains("line 5"), "{error}");
    }

    #[test]
    fn a_configured_policy_replaces_the_built_in_rules() {
        let text = "[policy]\ndue_business_days = 3\n[[policy.rules]]\nname = \"any data loss\"\ndecision = \"required\"\nwhen = { data_loss = true }\n";
        let config = Config::parse(text).unwrap();
        let policy = postmortem_core::policy::Policy::from_config(config.policy).unwrap();
        assert_eq!(policy.rules.len(), 1);
        assert_eq!(policy.due_business_days, 3);
    }

    const TEMPLATE: &str = "[[templates]]\nname = \"security\"\ntitle = \"Security review\"\n[[templates.sections]]\nname = \"summary\"\ntitle = \"Summary\"\nquestion = \"What happened?\"\n[[templates.sections]]\nname = \"what_we_believed\"\ntitle = \"What we believed\"\nquestion = \"What did we believe at the time, and why did it make sense?\"\n";

    #[test]
    fn custom_templates_are_read_and_policy_rules_may_choose_them() {
        let text = format!(
            "{TEMPLATE}[policy]\n[[policy.rules]]\nname = \"security\"\ndecision = \"required\"\ntemplate = \"security\"\nwhen = {{ kind = \"security\" }}\n"
        );
        let config = Config::parse(&text).unwrap();
        assert_eq!(
            config.templates().unwrap().names(),
            "full, lightweight, security"
        );
    }

    #[test]
    fn a_policy_rule_naming_an_unknown_template_is_refused() {
        let text = "[policy]\n[[policy.rules]]\nname = \"sec\"\ndecision = \"required\"\ntemplate = \"security\"\nwhen = { kind = \"security\" }\n";
        let error = Config::parse(text).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "policy.rules[0].template: rule `sec` asks for `security`, which is not a template"
            ),
            "{error}"
        );
    }

    #[test]
    fn the_file_fills_what_flags_leave_open() {
        let config =
            Config::parse("database_url = \"postgres://db/pm\"\n[server]\ncookie_secure = true\n")
                .unwrap();
        assert_eq!(
            config.database_url(None, None).unwrap().0,
            "postgres://db/pm"
        );
        assert_eq!(
            config.database_url(Some("sqlite://x.db"), None).unwrap().0,
            "sqlite://x.db"
        );
        assert_eq!(config.server.cookie_secure, Some(true));
    }

    #[test]
    fn an_oidc_table_is_read_and_a_misspelt_key_is_refused() {
        let text = "[oidc]\nissuer_url = \"https://sso.acme.example\"\nclient_id = \"pm\"\nallowed_email_domains = [\"acme.example\"]\n";
        let oidc = Config::parse(text).unwrap().oidc.unwrap();
        assert_eq!(oidc.client_id.as_deref(), Some("pm"));
        assert_eq!(
            oidc.allowed_email_domains,
            Some(vec!["acme.example".to_owned()])
        );
        let error = Config::parse("[oidc]\nclient_secrett = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("client_secrett"), "{error}");
    }

    #[test]
    fn without_a_url_the_database_lives_in_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let (url, created) = Config::default()
            .database_url(None, Some(&data_dir))
            .unwrap();
        assert_eq!(
            url,
            format!("sqlite://{}", data_dir.join("postmortem.db").display())
        );
        assert_eq!(created, Some(data_dir.clone()));
        assert!(data_dir.is_dir());
    }
}
