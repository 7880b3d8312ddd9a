//! The notification loop: every [`TICK`] it queues reminders for what became overdue,
//! delivers due webhooks, and once per ISO week, at the configured weekday and hour in the
//! organisation's UTC offset, sends the follow-through digest by webhook and email.
//!
//! Every node of a cluster may run the loop. Reminders and the digest are claimed in the
//! store before they are queued, and due deliveries are leased, so nothing goes out twice.

use crate::digest::{Digest, build_digest};
use crate::email::{EmailError, Mailer, SmtpConfig};
use crate::reminders;
use crate::webhook::{DIGEST, Deliverer, Payload, WebhookError, slack_escape, slack_link};
use postmortem_core::format_date;
use postmortem_store::{Clock, Store, StoreError};
use serde::{Deserialize, Deserializer};
use std::future::Future;
use std::sync::{Arc, Mutex};
use time::{Date, OffsetDateTime, Time, UtcOffset, Weekday};

/// How often the loop wakes up.
pub const TICK: std::time::Duration = std::time::Duration::from_secs(30);
/// How long to wait before trying a digest email again after the SMTP server refused it.
pub const EMAIL_RETRY: time::Duration = time::Duration::minutes(5);
/// How often a node deletes old deliveries from the log; more often would only spread the
/// same deletions over more transactions.
pub const PRUNE_EVERY: time::Duration = time::Duration::hours(1);

/// The `[notify]` table of `postmortem.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Where people open the server, for links in messages: `https://postmortem.example.com`.
    pub base_url: String,
    /// The day the digest goes out, such as `monday`.
    #[serde(default = "default_weekday", deserialize_with = "weekday")]
    pub digest_weekday: Weekday,
    /// The hour (0-23) the digest goes out, in `utc_offset`.
    #[serde(default = "default_hour")]
    pub digest_hour: u8,
    /// The organisation's offset from UTC, such as `+01:00`; it also decides which day is
    /// "today" when judging what is overdue.
    #[serde(default = "default_offset", deserialize_with = "offset")]
    pub utc_offset: UtcOffset,
    /// Email for the digest; without it the digest goes to webhooks only.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// How many days delivered and given-up webhook deliveries stay in the log (at least 1);
    /// pending ones stay until they are settled.
    #[serde(default = "default_keep_deliveries_days")]
    pub keep_deliveries_days: u32,
}

fn default_keep_deliveries_days() -> u32 {
    30
}

fn default_weekday() -> Weekday {
    Weekday::Monday
}

fn default_hour() -> u8 {
    9
}

fn default_offset() -> UtcOffset {
    UtcOffset::UTC
}

fn weekday<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Weekday, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse_weekday(&raw).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{raw}` is not a day of the week; write monday, tuesday, ... sunday"
        ))
    })
}

fn offset<'de, D: Deserializer<'de>>(deserializer: D) -> Result<UtcOffset, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse_offset(&raw).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{raw}` is not an offset from UTC; write it as +01:00, -05:00 or +00:00"
        ))
    })
}

/// Parses a weekday's English name or its first three letters, in any case.
pub fn parse_weekday(raw: &str) -> Option<Weekday> {
    let raw = raw.trim().to_ascii_lowercase();
    let mut day = Weekday::Monday;
    for _ in 0..7 {
        let name = day.to_string().to_ascii_lowercase();
        if raw == name || (raw.len() == 3 && name.starts_with(&raw)) {
            return Some(day);
        }
        day = day.next();
    }
    None
}

/// Parses `+HH:MM`, `-HH:MM` or `Z`.
pub fn parse_offset(raw: &str) -> Option<UtcOffset> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("z") {
        return Some(UtcOffset::UTC);
    }
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    UtcOffset::parse(raw, format).ok()
}

impl NotifyConfig {
    /// A configuration with the defaults: the digest on Mondays at 09:00 UTC, no email.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            digest_weekday: default_weekday(),
            digest_hour: default_hour(),
            utc_offset: default_offset(),
            smtp: None,
            keep_deliveries_days: default_keep_deliveries_days(),
        }
    }

    /// Checks what deserialising cannot: the hour's range and the link base.
    pub fn check(&self) -> Result<(), NotifyError> {
        if self.digest_hour > 23 {
            return Err(NotifyError::Config {
                field: "digest_hour",
                problem: format!("{} is not an hour; use 0 to 23", self.digest_hour),
            });
        }
        if self.keep_deliveries_days == 0 {
            return Err(NotifyError::Config {
                field: "keep_deliveries_days",
                problem:
                    "0 would delete deliveries as soon as they are sent; keep them at least 1 day"
                        .to_owned(),
            });
        }
        postmortem_core::WebLink::parse_field("base_url", self.base_url.as_str()).map_err(|e| {
            NotifyError::Config {
                field: "base_url",
                problem: e.to_string(),
            }
        })?;
        Ok(())
    }

    /// The day it is in the organisation's offset at `now`.
    pub fn today(&self, now: OffsetDateTime) -> Date {
        now.to_offset(self.utc_offset).date()
    }

    /// The ISO week `now` falls in (in the organisation's offset), as the digest's claim
    /// key names it, and whether that week's digest time has come.
    pub fn digest_week(&self, now: OffsetDateTime) -> (String, bool) {
        let local = now.to_offset(self.utc_offset);
        let (year, week, _) = local.date().to_iso_week_date();
        let key = format!("digest:{year}-W{week:02}");
        let due = Date::from_iso_week_date(year, week, self.digest_weekday)
            .ok()
            .zip(Time::from_hms(self.digest_hour, 0, 0).ok())
            .is_some_and(|(day, hour)| local >= day.with_time(hour).assume_offset(self.utc_offset));
        (key, due)
    }
}

/// What can go wrong in the loop.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notify.{field}: {problem}")]
    Config {
        field: &'static str,
        problem: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    #[error(transparent)]
    Email(#[from] EmailError),
}

/// What one tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    pub reminders: Vec<reminders::Reminder>,
    pub delivered: usize,
    pub failed: usize,
    /// The week's key, when this tick queued the weekly digest for webhooks.
    pub digest_queued: Option<String>,
    /// Whether this tick sent the digest email.
    pub digest_emailed: bool,
    /// How many old deliveries this tick deleted from the log.
    pub pruned: u64,
    /// What went wrong; one step failing does not stop the others.
    pub errors: Vec<NotifyError>,
}

/// Where this node is with the digest of the week in progress.
#[derive(Debug, Default)]
struct DigestState {
    /// The week the flags below are about.
    week: Option<String>,
    /// Whether the webhook part is settled (queued here, or found claimed by another node).
    webhooks_done: bool,
    /// Whether the email part is settled (or there is no email to send).
    email_done: bool,
    /// When to try the email again after a refusal.
    retry_email_at: Option<OffsetDateTime>,
}

/// One node's notifier: [`Notifier::tick`] is one round of the loop that [`run`] repeats.
#[derive(Debug)]
pub struct Notifier {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: NotifyConfig,
    deliverer: Deliverer,
    mailer: Option<Mailer>,
    digest: Mutex<DigestState>,
    /// When this node last deleted old deliveries.
    last_pruned: Mutex<Option<OffsetDateTime>>,
}

impl Notifier {
    /// Checks the configuration and prepares the HTTP client and the SMTP transport.
    pub fn new(
        store: Arc<dyn Store>,
        config: NotifyConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, NotifyError> {
        config.check()?;
        let mailer = config.smtp.as_ref().map(Mailer::new).transpose()?;
        Ok(Self {
            deliverer: Deliverer::new(store.clone(), clock.clone())?,
            store,
            clock,
            config,
            mailer,
            digest: Mutex::new(DigestState::default()),
            last_pruned: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &NotifyConfig {
        &self.config
    }

    /// One round: queue reminders, queue the digest if its time has come, then deliver
    /// what is due (including what was just queued).
    pub async fn tick(&self) -> TickReport {
        let now = self.clock.now();
        let today = self.config.today(now);
        let mut report = TickReport::default();
        match reminders::scan(&*self.store, &self.config.base_url, today, now).await {
            Ok(fired) => report.reminders = fired,
            Err(error) => report.errors.push(error.into()),
        }
        self.digest_step(now, today, &mut report).await;
        match self.deliverer.deliver_due().await {
            Ok(delivered) => {
                report.delivered = delivered.delivered;
                report.failed = delivered.failed;
            }
            Err(error) => report.errors.push(error.into()),
        }
        self.prune_step(now, &mut report).await;
        report
    }

    /// Deletes settled deliveries older than `keep_deliveries_days`, at most once per
    /// [`PRUNE_EVERY`] on this node.
    async fn prune_step(&self, now: OffsetDateTime, report: &mut TickReport) {
        {
            let last = self
                .last_pruned
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| now - at < PRUNE_EVERY) {
                return;
            }
        }
        let keep = time::Duration::days(i64::from(self.config.keep_deliveries_days));
        match self.store.prune_deliveries(now - keep).await {
            Ok(pruned) => {
                report.pruned = pruned;
                *self
                    .last_pruned
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(now);
            }
            Err(error) => report.errors.push(error.into()),
        }
    }

    async fn digest_step(&self, now: OffsetDateTime, today: Date, report: &mut TickReport) {
        let (week, due) = self.config.digest_week(now);
        if !due {
            return;
        }
        let (webhooks_done, email_done) = {
            let mut state = self.lock_digest();
            if state.week.as_deref() != Some(week.as_str()) {
                *state = DigestState {
                    week: Some(week.clone()),
                    email_done: self.mailer.is_none(),
                    ..DigestState::default()
                };
            }
            let waiting = state.retry_email_at.is_some_and(|at| now < at);
            (state.webhooks_done, state.email_done || waiting)
        };
        if webhooks_done && email_done {
            return;
        }
        let digest = match build_digest(&*self.store, None, today).await {
            Ok(digest) => digest,
            Err(error) => return report.errors.push(error.into()),
        };
        if !webhooks_done {
            let payload = digest_payload(&self.config.base_url, &digest);
            match self
                .store
                .enqueue_once(&week, now, DIGEST, &payload.to_json())
                .await
            {
                Ok(queued) => {
                    if queued.is_some() {
                        report.digest_queued = Some(week.clone());
                    }
                    self.lock_digest().webhooks_done = true;
                }
                Err(error) => report.errors.push(error.into()),
            }
        }
        if let (false, Some(mailer)) = (email_done, &self.mailer)
            && self.email_digest(mailer, &week, &digest, now, report).await
        {
            self.lock_digest().email_done = true;
        }
    }

    /// Sends the digest email unless another node did; true when the email is settled.
    async fn email_digest(
        &self,
        mailer: &Mailer,
        week: &str,
        digest: &Digest,
        now: OffsetDateTime,
        report: &mut TickReport,
    ) -> bool {
        let key = format!("{week}.email");
        match self.store.claim_reminder(&key, now).await {
            Ok(true) => {}
            Ok(false) => return true,
            Err(error) => {
                report.errors.push(error.into());
                return false;
            }
        }
        match mailer.send_digest(digest, &self.config.base_url).await {
            Ok(()) => {
                report.digest_emailed = true;
                true
            }
            Err(error) => {
                // Give the claim back so this node, or another, tries again later; the
                // claim only keeps two nodes from sending at the same time.
                if let Err(release) = self.store.release_reminder(&key).await {
                    report.errors.push(release.into());
                }
                self.lock_digest().retry_email_at = Some(now + EMAIL_RETRY);
                report.errors.push(error.into());
                false
            }
        }
    }

    fn lock_digest(&self) -> std::sync::MutexGuard<'_, DigestState> {
        self.digest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The digest's webhook payload: a one-paragraph summary with a link, and the whole digest
/// as data.
pub fn digest_payload(base_url: &str, digest: &Digest) -> Payload {
    let page = format!("{}/follow-through", base_url.trim_end_matches('/'));
    let text = format!(
        "Follow-through digest for {}, {}: {} post-mortem{} owed ({} overdue), {} action item{} overdue, {} completed in the last {} days. {}",
        slack_escape(&digest.audience()),
        format_date(digest.generated_on),
        digest.n_reviews_owed,
        plural(digest.n_reviews_owed),
        digest.n_reviews_overdue,
        digest.n_overdue_actions,
        plural(digest.n_overdue_actions),
        digest.recently_completed.len(),
        crate::digest::RECENT_DAYS,
        slack_link(&page, "See the follow-through page"),
    );
    let data = serde_json::to_value(digest).expect("a digest serialises");
    Payload::new(DIGEST, text, data)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Runs the loop until `shutdown` completes: a tick at once, then one every [`TICK`].
/// Errors of a tick are logged and the loop goes on; only a configuration that cannot work
/// stops it before the first tick.
pub async fn run(
    store: Arc<dyn Store>,
    config: NotifyConfig,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), NotifyError> {
    let notifier = Notifier::new(store, config, clock)?;
    tokio::pin!(shutdown);
    loop {
        let report = tokio::select! {
            () = &mut shutdown => return Ok(()),
            report = notifier.tick() => report,
        };
        for error in &report.errors {
            tracing::warn!(%error, "notifications: a step failed; it is tried again next tick");
        }
        if !report.reminders.is_empty() || report.delivered > 0 || report.digest_queued.is_some() {
            tracing::info!(
                reminders = report.reminders.len(),
                delivered = report.delivered,
                failed = report.failed,
                digest = report.digest_queued.as_deref().unwrap_or("-"),
                "notifications sent"
            );
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn weekdays_parse_by_name_or_abbreviation_in_any_case() {
        assert_eq!(parse_weekday("monday"), Some(Weekday::Monday));
        assert_eq!(parse_weekday("Sun"), Some(Weekday::Sunday));
        assert_eq!(parse_weekday(" FRIDAY "), Some(Weekday::Friday));
        assert_eq!(parse_weekday("mo"), None);
        assert_eq!(parse_weekday("someday"), None);
    }

    #[test]
    fn offsets_parse_with_a_sign_or_as_z() {
        assert_eq!(parse_offset("+01:00"), UtcOffset::from_hms(1, 0, 0).ok());
        assert_eq!(parse_offset("-05:30"), UtcOffset::from_hms(-5, -30, 0).ok());
        assert_eq!(parse_offset("Z"), Some(UtcOffset::UTC));
        assert_eq!(parse_offset("01:00"), None);
        assert_eq!(parse_offset("CET"), None);
    }

    #[test]
    fn the_digest_is_due_from_the_configured_hour_in_the_organisations_offset() {
        let mut config = NotifyConfig::new("https://pm.example.com");
        config.utc_offset = parse_offset("+01:00").unwrap();
        // Monday 2 March 2026, 09:00 at +01:00 is 08:00 UTC.
        assert_eq!(
            config.digest_week(datetime!(2026-03-02 07:59:59 UTC)),
            ("digest:2026-W10".to_owned(), false)
        );
        assert_eq!(
            config.digest_week(datetime!(2026-03-02 08:00 UTC)),
            ("digest:2026-W10".to_owned(), true)
        );
        assert_eq!(
            config.digest_week(datetime!(2026-03-08 22:59 UTC)),
            ("digest:2026-W10".to_owned(), true),
            "still due late on Sunday, for a node that was down on Monday"
        );
        assert_eq!(
            config.digest_week(datetime!(2026-03-08 23:00 UTC)),
            ("digest:2026-W11".to_owned(), false),
            "Monday has begun at +01:00"
        );
    }

    #[test]
    fn the_iso_week_year_is_used_at_the_turn_of_the_year() {
        let config = NotifyConfig::new("https://pm.example.com");
        assert_eq!(
            config.digest_week(datetime!(2026-12-31 12:00 UTC)).0,
            "digest:2026-W53"
        );
        assert_eq!(
            config.digest_week(datetime!(2027-01-03 12:00 UTC)).0,
            "digest:2026-W53"
        );
        assert_eq!(
            config.digest_week(datetime!(2025-12-29 12:00 UTC)).0,
            "digest:2026-W01"
        );
    }
}
