//! The one integration-test binary of `postmortem-markdown`: the lossless round trip, import of
//! post-mortems written elsewhere (real public files), hostile input, and the external version.

mod external;
mod foreign;
mod hostile;
mod html;
mod round_trip;

use postmortem_core::{Handle, Templates};
use postmortem_markdown::ImportContext;
use std::sync::LazyLock;
use time::macros::datetime;

pub static TEMPLATES: LazyLock<Templates> = LazyLock::new(Templates::default);
pub static IMPORTER: LazyLock<Handle> = LazyLock::new(|| Handle::parse("importer").unwrap());

/// How the tests import: the built-in templates, as `importer`, on 2025-06-30.
pub fn context() -> ImportContext<'static> {
    ImportContext {
        templates: &TEMPLATES,
        importer: &IMPORTER,
        now: datetime!(2025-06-30 12:00 UTC),
    }
}
