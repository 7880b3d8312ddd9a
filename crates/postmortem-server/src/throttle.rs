//! Sign-in throttling: failed sign-ins are counted per handle and per client address in the
//! store, so every server node sees the same counts; past a few failures a subject is locked
//! out for a period that doubles with each further failure (see
//! [`postmortem_store::LockoutPolicy`]). A successful sign-in forgets the handle's failures.
//! The address count is not reset by a success, so one valid account cannot be used to keep
//! guessing others' passwords from the same address.

use crate::AppState;
use axum::http::{HeaderMap, HeaderName};
use postmortem_core::Handle;
use postmortem_store::Result;
use std::net::{IpAddr, SocketAddr};
use time::OffsetDateTime;

/// The address a sign-in comes from: the last entry of the trusted proxy's header when one
/// is configured and present, otherwise the connection's peer.
pub(crate) fn client_address(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    proxy_header: Option<&HeaderName>,
) -> Option<IpAddr> {
    let forwarded = proxy_header
        .and_then(|name| headers.get(name))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    forwarded.or(peer.map(|peer| peer.ip()))
}

/// What failed sign-ins are counted against. IPv6 clients are counted per /64, the block
/// one household or host usually holds, so hopping addresses within it does not help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subjects {
    handle: Option<String>,
    address: Option<String>,
}

impl Subjects {
    pub(crate) fn new(handle: Option<&Handle>, address: Option<IpAddr>) -> Self {
        let address = address.map(|ip| match ip {
            IpAddr::V4(v4) => format!("address:{v4}"),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => format!("address:{v4}"),
                None => {
                    let s = v6.segments();
                    format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        });
        Self {
            handle: handle.map(|h| format!("handle:{}", h.as_str())),
            address,
        }
    }

    fn with_policies<'a>(
        &'a self,
        state: &'a AppState,
    ) -> impl Iterator<Item = (&'a str, &'a postmortem_store::LockoutPolicy)> {
        let settings = &state.settings;
        [
            (self.handle.as_deref(), &settings.lockout_per_handle),
            (self.address.as_deref(), &settings.lockout_per_address),
        ]
        .into_iter()
        .filter_map(|(subject, policy)| subject.map(|s| (s, policy)))
    }

    /// The end of the longest lockout of either subject, if one is locked out now.
    pub(crate) async fn locked_until(&self, state: &AppState) -> Result<Option<OffsetDateTime>> {
        let mut until = None;
        for (subject, _) in self.with_policies(state) {
            until = until.max(state.store.login_locked_until(subject).await?);
        }
        Ok(until)
    }

    /// Counts a failure against both subjects; answers the end of a lockout it started.
    pub(crate) async fn record_failure(&self, state: &AppState) -> Result<Option<OffsetDateTime>> {
        let mut until = None;
        for (subject, policy) in self.with_policies(state) {
            until = until.max(state.store.record_login_failure(subject, policy).await?);
        }
        Ok(until)
    }

    pub(crate) async fn record_success(&self, state: &AppState) -> Result<()> {
        match &self.handle {
            Some(handle) => state.store.clear_login_failures(handle).await,
            None => Ok(()),
        }
    }
}

/// Whole seconds from `now` until `until`, at least one, for `Retry-After`.
pub(crate) fn retry_after_seconds(until: OffsetDateTime, now: OffsetDateTime) -> i64 {
    let wait = (until - now).as_seconds_f64().ceil();
    (wait as i64).max(1)
}

/// How long to wait, in words: seconds under a minute and a half, whole minutes above.
pub(crate) fn wait_in_words(seconds: i64) -> String {
    match seconds {
        1 => "1 second".to_owned(),
        s if s < 90 => format!("{s} seconds"),
        s => format!("{} minutes", (s + 59) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_proxy_header_names_the_client_only_when_configured() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        let peer = Some("192.0.2.1:5000".parse().unwrap());
        let header = HeaderName::from_static("x-forwarded-for");
        assert_eq!(
            client_address(&headers, peer, None),
            Some("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            client_address(&headers, peer, Some(&header)),
            Some("198.51.100.7".parse().unwrap()),
            "the entry the trusted proxy appended, not one the client wrote"
        );
        assert_eq!(client_address(&HeaderMap::new(), None, Some(&header)), None);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_block_and_mapped_ipv4_as_ipv4() {
        let a = Subjects::new(None, Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = Subjects::new(None, Some("2001:db8:1:2:bbbb::2".parse().unwrap()));
        assert_eq!(a, b);
        assert_eq!(a.address.as_deref(), Some("address:2001:db8:1:2::/64"));
        let mapped = Subjects::new(None, Some("::ffff:192.0.2.1".parse().unwrap()));
        assert_eq!(mapped.address.as_deref(), Some("address:192.0.2.1"));
    }

    #[test]
    fn the_wait_is_said_in_seconds_then_whole_minutes() {
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(wait_in_words(30), "30 seconds");
        assert_eq!(wait_in_words(120), "2 minutes");
        assert_eq!(wait_in_words(3600), "60 minutes");
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            retry_after_seconds(now + time::Duration::milliseconds(29_001), now),
            30
        );
        assert_eq!(retry_after_seconds(now, now), 1);
    }
}
