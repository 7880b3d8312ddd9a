//! Webhook signatures: PagerDuty's v3 (`X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the
//! body>`) and GitHub's (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` carries a valid signature of `body` under `secret`. PagerDuty sends one
/// `v1=` signature per active secret, comma-separated, while a secret is being rotated; any
/// one matching is enough. The comparison is constant-time (`Mac::verify_slice`).
pub fn verify_pagerduty_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    header
        .split(',')
        .take(8)
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(|hex_digest| hex::decode(hex_digest.trim()).ok())
        .any(|expected| {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
                return false;
            };
            mac.update(body);
            mac.verify_slice(&expected).is_ok()
        })
}

/// Whether `header` (`X-Hub-Signature-256`) carries a valid signature of `body` under
/// `secret`, as GitHub signs every webhook delivery with the secret set on the webhook.
pub fn verify_github_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(expected) = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The header GitHub would send for `body` under `secret`.
pub fn github_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The header PagerDuty would send for `body` under `secret`; tests and replays use it.
pub fn pagerduty_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_signed_with_the_secret_is_accepted_and_any_change_is_refused() {
        let header = pagerduty_signature(b"s3cret", b"{\"event\":{}}");
        assert!(verify_pagerduty_signature(
            b"s3cret",
            b"{\"event\":{}}",
            &header
        ));
        assert!(!verify_pagerduty_signature(
            b"s3cret",
            b"{\"event\":{ }}",
            &header
        ));
        assert!(!verify_pagerduty_signature(
            b"other",
            b"{\"event\":{}}",
            &header
        ));
        assert!(!verify_pagerduty_signature(b"s3cret", b"{}", "v1=zz"));
        assert!(!verify_pagerduty_signature(b"s3cret", b"{}", ""));
    }

    #[test]
    fn a_github_delivery_signed_with_the_webhook_secret_is_accepted_and_no_other() {
        let header = github_signature(b"gh-secret", b"{}");
        assert!(header.starts_with("sha256="));
        assert!(verify_github_signature(b"gh-secret", b"{}", &header));
        assert!(!verify_github_signature(b"gh-secret", b"{ }", &header));
        assert!(!verify_github_signature(b"other", b"{}", &header));
        assert!(!verify_github_signature(b"gh-secret", b"{}", "sha1=00"));
    }

    #[test]
    fn during_a_secret_rotation_either_signature_is_enough() {
        let good = pagerduty_signature(b"new", b"body");
        let header = format!("v1=00ff, {good}");
        assert!(verify_pagerduty_signature(b"new", b"body", &header));
    }
}
