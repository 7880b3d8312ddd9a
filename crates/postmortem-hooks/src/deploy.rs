//! Deploys: the plain deploy hook `{"service", "version", "at", "by", "url"}` (or a list of
//! them under `deploys`), and GitHub's `deployment_status` event, recognised by its
//! `deployment_status` object; only a `success` status is a change that went out.

use crate::fields::{self, MAX_KEY_CHARS};
use crate::{DeployEvent, MAX_EVENTS_PER_PAYLOAD, Parsed, PayloadError};
use postmortem_core::{Name, WebLink};
use serde_json::Value;

pub fn parse(body: &Value) -> Result<Parsed, PayloadError> {
    if body.get("deployment_status").is_some() {
        return github_deployment_status(body);
    }
    if let Some(deploys) = body.get("deploys") {
        let Value::Array(deploys) = deploys else {
            return Err(PayloadError::invalid("deploys", "must be an array"));
        };
        if deploys.len() > MAX_EVENTS_PER_PAYLOAD {
            return Err(PayloadError::invalid(
                "deploys",
                format!(
                    "holds more than the {MAX_EVENTS_PER_PAYLOAD} deploys one payload may carry"
                ),
            ));
        }
        let deploys = deploys
            .iter()
            .enumerate()
            .map(|(index, deploy)| plain_deploy(deploy, &format!("deploys[{index}].")))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Parsed::Deploys { deploys });
    }
    Ok(Parsed::Deploys {
        deploys: vec![plain_deploy(body, "")?],
    })
}

fn plain_deploy(deploy: &Value, prefix: &str) -> Result<DeployEvent, PayloadError> {
    if !deploy.is_object() {
        return Err(PayloadError::invalid(
            prefix.trim_end_matches('.'),
            "must be a JSON object",
        ));
    }
    let field = |name: &str| format!("{prefix}{name}");
    let service_raw = fields::required_text(deploy, "service", &field("service"))?;
    let service = Name::parse(service_raw)
        .map_err(|error| PayloadError::invalid(field("service"), error.rule().to_owned()))?;
    let version = fields::cut(
        fields::required_text(deploy, "version", &field("version"))?,
        MAX_KEY_CHARS,
    );
    let at = fields::instant(
        fields::required_text(deploy, "at", &field("at"))?,
        &field("at"),
    )?;
    let by = fields::text(deploy, "by")
        .filter(|by| !by.trim().is_empty())
        .map(|by| fields::cut(by, MAX_KEY_CHARS));
    let link = match fields::text(deploy, "url").filter(|url| !url.trim().is_empty()) {
        Some(url) => Some(
            WebLink::parse(url)
                .map_err(|error| PayloadError::invalid(field("url"), error.rule().to_owned()))?,
        ),
        None => None,
    };
    // The same service, version and instant is the same deploy, however often it is sent.
    let key = fields::cut(
        &format!("{}@{}@{}", service.as_str(), version, at.unix_timestamp()),
        MAX_KEY_CHARS * 2,
    );
    Ok(DeployEvent {
        key,
        service,
        version,
        at,
        by,
        link,
    })
}

fn github_deployment_status(body: &Value) -> Result<Parsed, PayloadError> {
    let status = body
        .get("deployment_status")
        .filter(|status| status.is_object())
        .ok_or_else(|| PayloadError::invalid("deployment_status", "must be a JSON object"))?;
    let state = fields::required_text(status, "state", "deployment_status.state")?;
    if state != "success" {
        return Ok(Parsed::Ignored {
            reason: format!(
                "a deployment status of `{}`; only `success` is a change that went out",
                fields::cut(state, 40)
            ),
        });
    }
    let deployment = body
        .get("deployment")
        .filter(|deployment| deployment.is_object())
        .ok_or_else(|| PayloadError::invalid("deployment", "is missing or not an object"))?;
    let repository = body
        .get("repository")
        .filter(|repository| repository.is_object())
        .ok_or_else(|| PayloadError::invalid("repository", "is missing or not an object"))?;
    let repository_name = fields::required_text(repository, "name", "repository.name")?;
    let service = Name::parse(repository_name)
        .map_err(|error| PayloadError::invalid("repository.name", error.rule().to_owned()))?;
    let deployment_id = deployment
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| PayloadError::invalid("deployment.id", "is missing or not a number"))?;
    let sha = fields::required_text(deployment, "sha", "deployment.sha")?;
    let reference = fields::text(deployment, "ref").filter(|r| !r.trim().is_empty() && *r != sha);
    let short_sha: String = sha.chars().take(12).collect();
    let version = match reference {
        Some(reference) => format!("{} ({short_sha})", fields::cut(reference, 100)),
        None => short_sha,
    };
    let at = fields::instant(
        fields::required_text(status, "created_at", "deployment_status.created_at")?,
        "deployment_status.created_at",
    )?;
    let by = status
        .get("creator")
        .or_else(|| deployment.get("creator"))
        .and_then(|creator| fields::text(creator, "login"))
        .map(|login| fields::cut(login, MAX_KEY_CHARS));
    let link = fields::link(fields::text(status, "log_url"))
        .or_else(|| fields::link(fields::text(status, "target_url")))
        .or_else(|| fields::link(fields::text(status, "environment_url")))
        .or_else(|| {
            fields::text(repository, "html_url")
                .and_then(|repo| WebLink::parse(format!("{repo}/commit/{sha}")).ok())
        });
    Ok(Parsed::Deploys {
        deploys: vec![DeployEvent {
            key: format!("github:{deployment_id}"),
            service,
            version,
            at,
            by,
            link,
        }],
    })
}
