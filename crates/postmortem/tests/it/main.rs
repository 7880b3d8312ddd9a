//! The one integration-test binary of `postmortem`: the binary run as a person or an operator
//! runs it, real files and processes, exit status and output checked.

mod cli;
mod durability;
mod logs;
mod server;
mod timeline;
