//! The use cases of `postmortem-app` on a real store: one binary, a module per capability.

mod import;
mod passages;
mod system;
