//! Chat on the timeline: messages of a Slack export's channel or a generic CSV/JSON list,
//! previewed for an incident (pre-selected when pinned, with a chosen reaction or naming
//! words such as deploy, rollback, mitigated; each checked by the blameless-language checker
//! as quoted speech) and imported as `source: chat` entries, once per message.
//!
//! An entry keeps the message as a Markdown block quote, so the checker reads it one level
//! lower, as it reads any quotation: what people said in the moment is evidence, not the
//! post-mortem's own voice. Authors are matched to people by their chat handle or their
//! email's local part; the message's link is the entry's source.

use crate::{AppError, Service};
use postmortem_core::{
    Handle, IncidentId, Markdown, Marker, NewTimelineEntry, Permission, Perspective, Source, User,
    ValidationError,
};
pub use postmortem_hooks::chat::ChannelSummary;
use postmortem_hooks::chat::{self, ChatLimits, ChatMessage};
use postmortem_store::SourcedEntry;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// Where the messages come from.
#[derive(Debug, Clone, Copy)]
pub enum ChatSource<'a> {
    /// A Slack workspace export (zip) and the channel to read.
    Slack { export: &'a [u8], channel: &'a str },
    /// A CSV or JSON list of `time, author, text, link`.
    Generic { bytes: &'a [u8] },
}

/// What an uploaded file holds, read before anyone chooses from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChatExport {
    /// A Slack workspace export and its channels.
    Slack { channels: Vec<ChannelSummary> },
    /// A CSV or JSON list of this many messages.
    Generic { messages: usize },
}

impl ChatExport {
    /// Whether `bytes` are a zip archive (a Slack export) rather than a CSV or JSON list.
    pub fn is_zip(bytes: &[u8]) -> bool {
        bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
    }
}

/// How the chosen messages become entries: one perspective and marker for all, and any
/// message's own (by message id) in their place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportChoices {
    pub perspective: Perspective,
    pub marker: Option<Marker>,
    pub perspectives: BTreeMap<String, Perspective>,
    pub markers: BTreeMap<String, Marker>,
}

impl ImportChoices {
    /// Every message with `perspective` and no marker.
    pub fn all_as(perspective: Perspective) -> Self {
        Self {
            perspective,
            marker: None,
            perspectives: BTreeMap::new(),
            markers: BTreeMap::new(),
        }
    }
}

/// Which messages to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Pinned,
    /// Those naming a keyword (deploy, rollback, mitigated...).
    Keywords,
    /// What the preview pre-selects: pinned, with the reaction, or naming a keyword.
    Preselected {
        reaction: Option<String>,
    },
    /// These messages, by id.
    Ids(BTreeSet<String>),
}

impl Selection {
    /// `all`, `pinned` or `keywords`, as the command line writes it.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "all" => Ok(Self::All),
            "pinned" => Ok(Self::Pinned),
            "keywords" => Ok(Self::Keywords),
            other => Err(ValidationError::new(
                "select",
                format!("`{other}` is not a selection; use all, pinned or keywords"),
            )),
        }
    }

    fn takes(&self, message: &ChatMessage) -> bool {
        match self {
            Self::All => true,
            Self::Pinned => message.pinned,
            Self::Keywords => chat::mentions_keyword(&message.text),
            Self::Preselected { reaction } => chat::preselected(message, reaction.as_deref()),
            Self::Ids(ids) => ids.contains(&message.id),
        }
    }
}

/// One message as the preview shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewMessage {
    #[serde(flatten)]
    pub message: ChatMessage,
    /// Offered ticked: pinned, with the chosen reaction, or naming a keyword.
    pub preselected: bool,
    /// This incident's timeline holds it already (importing it again adds nothing).
    pub imported: bool,
    /// The person the author was matched to, by handle.
    pub person: Option<Handle>,
    /// That person's name as this site shows it.
    pub person_name: Option<String>,
    /// What the blameless-language checker says of it, read as quoted speech (every level).
    pub findings: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ChatImported {
    pub selected: usize,
    pub added: usize,
    /// Selected but on the timeline already.
    pub already: usize,
}

fn read(
    source: ChatSource<'_>,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> Result<Vec<ChatMessage>, AppError> {
    let limits = ChatLimits::default();
    let refused = |error: chat::ChatError| ValidationError::new("export", error.to_string());
    let messages = match source {
        ChatSource::Slack { export, channel } => {
            chat::read_slack_export(export, channel, from, to, limits)
                .map_err(refused)?
                .messages
        }
        ChatSource::Generic { bytes } => chat::read_generic(bytes, limits)
            .map_err(refused)?
            .into_iter()
            .filter(|m| from.is_none_or(|f| m.at >= f) && to.is_none_or(|t| m.at <= t))
            .collect(),
    };
    Ok(messages)
}

/// The message as a block quote, the form the checker reads one level lower.
fn quoted(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(message: &ChatMessage) -> String {
    format!("chat:{}", message.id)
}

/// The person an author is, by chat handle or email local part.
fn match_person<'p>(people: &'p BTreeMap<Handle, User>, message: &ChatMessage) -> Option<&'p User> {
    let author = &message.author;
    [
        author.handle.as_deref(),
        author.email.as_deref().and_then(|e| e.split('@').next()),
    ]
    .into_iter()
    .flatten()
    .filter_map(Handle::derive)
    .find_map(|handle| people.get(&handle))
}

impl Service<'_> {
    async fn people_by_handle(&self) -> Result<BTreeMap<Handle, User>, AppError> {
        let people = self.people().await?;
        Ok(people
            .into_values()
            .map(|u| (u.handle.clone(), u))
            .collect())
    }

    /// What an uploaded file holds (a Slack export's channels, or how many messages a list
    /// has), read for a person who may add to the incident's timeline; a file that is neither
    /// is refused saying why.
    pub async fn read_chat_export(
        &self,
        id: IncidentId,
        bytes: &[u8],
    ) -> Result<ChatExport, AppError> {
        self.incident(id).await?;
        self.require(Permission::Write, "write post-mortems")?;
        let refused = |error: chat::ChatError| ValidationError::new("export", error.to_string());
        Ok(if ChatExport::is_zip(bytes) {
            ChatExport::Slack {
                channels: chat::slack_channels(bytes, ChatLimits::default()).map_err(refused)?,
            }
        } else {
            let messages = chat::read_generic(bytes, ChatLimits::default())
                .map_err(refused)?
                .len();
            if messages == 0 {
                return Err(ValidationError::new(
                    "export",
                    "the file holds no messages: a CSV needs the header time,author,text,link and a row per message, a JSON list an object per message",
                )
                .into());
            }
            ChatExport::Generic { messages }
        })
    }

    /// The messages of the window, for the person to choose from.
    pub async fn preview_chat(
        &self,
        id: IncidentId,
        source: ChatSource<'_>,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
        reaction: Option<&str>,
    ) -> Result<Vec<PreviewMessage>, AppError> {
        let record = self.incident(id).await?;
        let messages = read(source, from, to)?;
        let imported: BTreeSet<String> = self
            .app
            .store
            .source_keys(id, "chat:")
            .await?
            .into_iter()
            .collect();
        let people = self.people_by_handle().await?;
        let options = postmortem_lint::LintOptions {
            participants: crate::lint_participants(&record),
            config: self.app.rules.lint.clone(),
        };
        Ok(messages
            .into_iter()
            .map(|message| PreviewMessage {
                preselected: chat::preselected(&message, reaction),
                imported: imported.contains(&key(&message)),
                person: match_person(&people, &message).map(|u| u.handle.clone()),
                person_name: match_person(&people, &message).map(|u| u.display_name.to_string()),
                // Every finding, at the level the checker gives quoted speech (one lower than
                // the post-mortem's own words), so the person sees what they would import.
                findings: postmortem_lint::lint(&quoted(&message.text), &options)
                    .into_iter()
                    .map(|f| f.message)
                    .collect(),
                message,
            })
            .collect())
    }

    /// Imports the selected messages of the window as chat entries with the perspective and
    /// marker `choices` give each, as the person; messages imported before are skipped, so
    /// importing again adds nothing.
    pub async fn import_chat(
        &self,
        id: IncidentId,
        source: ChatSource<'_>,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
        selection: &Selection,
        choices: &ImportChoices,
    ) -> Result<ChatImported, AppError> {
        self.incident(id).await?;
        self.require(Permission::Write, "write post-mortems")?;
        let people = self.people_by_handle().await?;
        let mut entries = Vec::new();
        for message in read(source, from, to)?
            .into_iter()
            .filter(|m| selection.takes(m))
        {
            let text = quoted(&message.text);
            let Ok(text) = Markdown::parse_non_empty("text", text) else {
                continue;
            };
            let actor = match_person(&people, &message).map_or_else(
                || message.author.name.clone(),
                |u| u.display_name.to_string(),
            );
            entries.push(SourcedEntry {
                incident: id,
                key: key(&message),
                entry: NewTimelineEntry {
                    at: message.at,
                    text,
                    actor: Some(actor),
                    marker: choices.markers.get(&message.id).copied().or(choices.marker),
                    perspective: choices
                        .perspectives
                        .get(&message.id)
                        .copied()
                        .unwrap_or(choices.perspective),
                    source: Source::Chat,
                    source_url: message.link.clone(),
                },
            });
        }
        let selected = entries.len();
        let written = self
            .app
            .store
            .add_sourced_entries(self.actor(), None, entries)
            .await?;
        Ok(ChatImported {
            selected,
            added: written.added.len(),
            already: selected - written.added.len(),
        })
    }
}
