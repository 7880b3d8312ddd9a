//! Chat exports read into messages: a Slack workspace export (a zip of `users.json`,
//! `channels.json` and one folder of day files per channel) and a generic CSV or JSON list of
//! messages (`time`, `author`, `text`, `link`).
//!
//! Reading is pure (bytes in, messages out) and bounded: the zip's entry count, each entry's
//! declared size and the sum of the declared sizes are checked before anything is inflated,
//! and every read is cut at its limit, so an archive that lies about its sizes (a zip bomb)
//! is refused when it reaches the limit, never after filling memory. Day files outside the
//! asked window are not opened at all.

use postmortem_core::WebLink;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{Cursor, Read};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How much a chat export may hold.
#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    /// Entries in the zip.
    pub max_entries: usize,
    /// The largest one file may be once inflated.
    pub max_file_bytes: u64,
    /// The most all the files read may be once inflated.
    pub max_total_bytes: u64,
    /// The most messages one read returns.
    pub max_messages: usize,
}

impl Default for ChatLimits {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_file_bytes: 32 * 1024 * 1024,
            max_total_bytes: 512 * 1024 * 1024,
            max_messages: 200_000,
        }
    }
}

/// Who wrote a message, as the export names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatAuthor {
    /// The chat's user name (Slack's `name`), to match a person's handle.
    pub handle: Option<String>,
    pub email: Option<String>,
    /// How the chat shows them.
    pub name: String,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    /// Stable across reads of the same export: `slack:{channel id}:{ts}`, or for generic
    /// lists the time, author and text.
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub author: ChatAuthor,
    pub text: String,
    pub link: Option<WebLink>,
    pub pinned: bool,
    /// The names of the reactions it got (`white_check_mark`, `eyes`...).
    pub reactions: Vec<String>,
}

/// Why an export was refused, saying what was wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("the file is not a zip archive ({0}); give the workspace export Slack made")]
    NotZip(String),
    #[error(
        "the archive is larger than allowed once inflated: {what} ({bytes} bytes, the limit is {limit}); export a shorter time span or one channel"
    )]
    TooLarge {
        what: String,
        bytes: u64,
        limit: u64,
    },
    #[error("the archive holds more than {0} files")]
    TooManyEntries(usize),
    #[error("`{file}` is missing; a Slack workspace export holds it at the top of the zip")]
    Missing { file: String },
    #[error("`{file}` is not valid JSON of a Slack export: {reason}")]
    BadJson { file: String, reason: String },
    #[error("there is no channel `{channel}` in the export; it holds {known}")]
    NoSuchChannel { channel: String, known: String },
    #[error("line {line}: {reason}")]
    BadRow { line: usize, reason: String },
    #[error("more than {0} messages in the window; ask for a shorter one")]
    TooManyMessages(usize),
}

/// A channel's messages in a window, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelMessages {
    pub channel: String,
    pub messages: Vec<ChatMessage>,
}

#[derive(Deserialize)]
struct SlackUser {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    profile: Option<SlackProfile>,
}

#[derive(Deserialize)]
struct SlackProfile {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct SlackChannel {
    id: String,
    name: String,
    #[serde(default)]
    pins: Vec<SlackPin>,
}

#[derive(Deserialize)]
struct SlackPin {
    id: String,
}

#[derive(Deserialize)]
struct SlackMessage {
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    user_profile: Option<SlackProfile>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    pinned_to: Vec<String>,
    #[serde(default)]
    reactions: Vec<SlackReaction>,
}

#[derive(Deserialize)]
struct SlackReaction {
    name: String,
}

/// The zip, with the sizes checked and a budget for what is inflated.
struct Archive<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    limits: ChatLimits,
    read: u64,
}

impl<'a> Archive<'a> {
    fn open(bytes: &'a [u8], limits: ChatLimits) -> Result<Self, ChatError> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| ChatError::NotZip(e.to_string()))?;
        if zip.len() > limits.max_entries {
            return Err(ChatError::TooManyEntries(limits.max_entries));
        }
        let mut declared: u64 = 0;
        for index in 0..zip.len() {
            let entry = zip
                .by_index_raw(index)
                .map_err(|e| ChatError::NotZip(e.to_string()))?;
            if entry.size() > limits.max_file_bytes {
                return Err(ChatError::TooLarge {
                    what: format!("`{}` declares", entry.name()),
                    bytes: entry.size(),
                    limit: limits.max_file_bytes,
                });
            }
            declared = declared.saturating_add(entry.size());
        }
        if declared > limits.max_total_bytes {
            return Err(ChatError::TooLarge {
                what: "its files declare".into(),
                bytes: declared,
                limit: limits.max_total_bytes,
            });
        }
        Ok(Self {
            zip,
            limits,
            read: 0,
        })
    }

    fn names(&self) -> Vec<String> {
        self.zip.file_names().map(str::to_owned).collect()
    }

    /// A file's bytes, read no further than its limit whatever its header says.
    fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, ChatError> {
        let entry = match self.zip.by_name(name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(ChatError::NotZip(e.to_string())),
        };
        let budget = self
            .limits
            .max_file_bytes
            .min(self.limits.max_total_bytes - self.read);
        let mut bytes = Vec::new();
        entry
            .take(budget + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ChatError::NotZip(format!("`{name}`: {e}")))?;
        let got = bytes.len() as u64;
        if got > budget {
            return Err(ChatError::TooLarge {
                what: format!("`{name}` inflates to more than it declared"),
                bytes: got,
                limit: budget,
            });
        }
        self.read += got;
        Ok(Some(bytes))
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, name: &str) -> Result<T, ChatError> {
        let bytes = self.read(name)?.ok_or_else(|| ChatError::Missing {
            file: name.to_owned(),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ChatError::BadJson {
            file: name.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// A channel of a Slack export, as `channels.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelSummary {
    pub name: String,
    /// How many day files the export holds for it.
    pub days: usize,
}

/// The channels of a Slack workspace export, in `channels.json`'s order, with how many day
/// files each has; nothing but `channels.json` is inflated.
pub fn slack_channels(bytes: &[u8], limits: ChatLimits) -> Result<Vec<ChannelSummary>, ChatError> {
    let mut archive = Archive::open(bytes, limits)?;
    let channels: Vec<SlackChannel> = archive.json("channels.json")?;
    let names = archive.names();
    Ok(channels
        .into_iter()
        .map(|channel| {
            let folder = format!("{}/", channel.name);
            let days = names
                .iter()
                .filter(|n| n.starts_with(&folder) && n.ends_with(".json"))
                .count();
            ChannelSummary {
                name: channel.name,
                days,
            }
        })
        .collect())
}

/// The channel's messages from `from` to `to` (either open) in a Slack workspace export.
/// Join and leave notices and other bot chatter (`subtype`) are left out; a message whose
/// author is not in `users.json` keeps the id Slack gave them as their name.
pub fn read_slack_export(
    bytes: &[u8],
    channel: &str,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    limits: ChatLimits,
) -> Result<ChannelMessages, ChatError> {
    let mut archive = Archive::open(bytes, limits)?;
    let users: Vec<SlackUser> = archive.json("users.json")?;
    let channels: Vec<SlackChannel> = archive.json("channels.json")?;
    let wanted = channel.trim().trim_start_matches('#');
    let Some(found) = channels.iter().find(|c| c.name == wanted) else {
        let known: Vec<&str> = channels.iter().map(|c| c.name.as_str()).take(20).collect();
        return Err(ChatError::NoSuchChannel {
            channel: wanted.to_owned(),
            known: if known.is_empty() {
                "no channels".to_owned()
            } else {
                known.join(", ")
            },
        });
    };
    let pins: std::collections::HashSet<&str> = found.pins.iter().map(|p| p.id.as_str()).collect();
    let people: HashMap<&str, ChatAuthor> = users
        .iter()
        .map(|u| (u.id.as_str(), author_of(u)))
        .collect();
    let mut days: Vec<String> = archive
        .names()
        .into_iter()
        .filter(|name| {
            name.strip_prefix(&format!("{wanted}/"))
                .and_then(|file| file.strip_suffix(".json"))
                .and_then(|day| {
                    time::Date::parse(
                        day,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .ok()
                })
                // A day file holds that day in UTC; one day of slack either side is kept
                // so no time zone loses a message at the window's edges.
                .is_some_and(|day| {
                    from.is_none_or(|f| day >= f.date() - time::Duration::days(1))
                        && to.is_none_or(|t| day <= t.date() + time::Duration::days(1))
                })
        })
        .collect();
    days.sort();
    let mut messages = Vec::new();
    for day in days {
        let raw: Vec<SlackMessage> = archive.json(&day)?;
        for message in raw {
            if message.subtype.is_some() {
                continue;
            }
            let (Some(ts), Some(text)) = (message.ts.as_deref(), message.text.as_deref()) else {
                continue;
            };
            let Some(at) = slack_instant(ts) else {
                continue;
            };
            if from.is_some_and(|f| at < f) || to.is_some_and(|t| at > t) {
                continue;
            }
            let author = match message.user.as_deref().and_then(|id| people.get(id)) {
                Some(author) => author.clone(),
                None => ChatAuthor {
                    handle: None,
                    email: message.user_profile.as_ref().and_then(|p| p.email.clone()),
                    name: message
                        .user_profile
                        .as_ref()
                        .and_then(|p| p.real_name.clone())
                        .or(message.user.clone())
                        .unwrap_or_else(|| "someone".to_owned()),
                },
            };
            messages.push(ChatMessage {
                id: format!("slack:{}:{ts}", found.id),
                at,
                author,
                text: text.to_owned(),
                link: WebLink::parse(format!(
                    "https://slack.com/archives/{}/p{}",
                    found.id,
                    ts.replace('.', "")
                ))
                .ok(),
                pinned: pins.contains(ts) || message.pinned_to.contains(&found.id),
                reactions: message.reactions.into_iter().map(|r| r.name).collect(),
            });
            if messages.len() > limits.max_messages {
                return Err(ChatError::TooManyMessages(limits.max_messages));
            }
        }
    }
    messages.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    Ok(ChannelMessages {
        channel: wanted.to_owned(),
        messages,
    })
}

fn author_of(user: &SlackUser) -> ChatAuthor {
    let profile = user.profile.as_ref();
    let name = profile
        .and_then(|p| p.real_name.clone().filter(|n| !n.is_empty()))
        .or_else(|| user.real_name.clone())
        .or_else(|| profile.and_then(|p| p.display_name.clone()))
        .or_else(|| user.name.clone())
        .unwrap_or_else(|| user.id.clone());
    ChatAuthor {
        handle: user.name.clone(),
        email: profile.and_then(|p| p.email.clone()),
        name,
    }
}

/// Slack's `ts`, seconds and microseconds since the epoch, as an instant in UTC.
fn slack_instant(ts: &str) -> Option<OffsetDateTime> {
    let (seconds, micros) = ts.split_once('.').unwrap_or((ts, "0"));
    let seconds: i64 = seconds.parse().ok()?;
    let micros: i64 = format!("{micros:0<6}").get(..6)?.parse().ok()?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .map(|at| at + time::Duration::microseconds(micros))
}

#[derive(Deserialize)]
struct GenericRow {
    time: String,
    author: String,
    text: String,
    #[serde(default)]
    link: Option<String>,
}

/// A generic list of messages: CSV with a header `time,author,text,link` (link optional), or a
/// JSON array of objects with those keys. Times are RFC 3339 with an offset.
pub fn read_generic(bytes: &[u8], limits: ChatLimits) -> Result<Vec<ChatMessage>, ChatError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ChatError::TooLarge {
            what: "the file".into(),
            bytes: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let rows: Vec<(usize, GenericRow)> = if first == Some(&b'[') {
        let rows: Vec<GenericRow> =
            serde_json::from_slice(bytes).map_err(|e| ChatError::BadJson {
                file: "the messages".into(),
                reason: e.to_string(),
            })?;
        rows.into_iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r))
            .collect()
    } else {
        let mut reader = csv::Reader::from_reader(bytes);
        let mut rows = Vec::new();
        for (index, row) in reader.deserialize::<GenericRow>().enumerate() {
            let row = row.map_err(|e| ChatError::BadRow {
                line: index + 2,
                reason: format!("{e}; the columns are time,author,text,link"),
            })?;
            rows.push((index + 2, row));
        }
        rows
    };
    if rows.len() > limits.max_messages {
        return Err(ChatError::TooManyMessages(limits.max_messages));
    }
    let mut messages = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let at =
            OffsetDateTime::parse(row.time.trim(), &Rfc3339).map_err(|_| ChatError::BadRow {
                line,
                reason: format!(
                    "`{}` is not a time with an offset, such as 2025-03-14T13:02:00Z",
                    row.time.trim()
                ),
            })?;
        let link = match row.link.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            Some(raw) => Some(WebLink::parse(raw).map_err(|e| ChatError::BadRow {
                line,
                reason: e.to_string(),
            })?),
            None => None,
        };
        let author = row.author.trim().to_owned();
        messages.push(ChatMessage {
            id: format!(
                "generic:{}:{}",
                at.unix_timestamp_nanos(),
                hex::encode(&sha_of(&format!("{author}\n{}", row.text))[..8])
            ),
            at,
            author: ChatAuthor {
                handle: (!author.contains('@')).then(|| author.clone()),
                email: author.contains('@').then(|| author.clone()),
                name: author,
            },
            text: row.text,
            link,
            pinned: false,
            reactions: Vec::new(),
        });
    }
    messages.sort_by_key(|m| m.at);
    Ok(messages)
}

fn sha_of(text: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).to_vec()
}

/// Words that make a message worth offering for the timeline.
pub const KEYWORDS: [&str; 7] = [
    "deploy",
    "rollback",
    "roll back",
    "rolled back",
    "revert",
    "mitigat",
    "resolved",
];

/// Whether a message is offered pre-selected: pinned, with `reaction`, or naming one of the
/// keywords.
pub fn preselected(message: &ChatMessage, reaction: Option<&str>) -> bool {
    message.pinned
        || reaction.is_some_and(|r| message.reactions.iter().any(|m| m == r.trim_matches(':')))
        || mentions_keyword(&message.text)
}

pub fn mentions_keyword(text: &str) -> bool {
    let lower = text.to_lowercase();
    KEYWORDS.iter().any(|k| lower.contains(k))
}
