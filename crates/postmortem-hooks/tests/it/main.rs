//! The integration tests of postmortem-hooks: every provider's documented payload shape, and
//! hostile input.

mod chat;
mod formats;
mod hostile;

/// A fixture written in the shape of the provider's documented example payload.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/it/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}
