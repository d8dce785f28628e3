//! ringmaster turns on Cassandra internode TLS across a live cluster, one node at a
//! time, in two rolling passes (`optional`, then `enforce`), and never loses its place.
//!
//! Every phase transition of every node is written to a SQLite journal before and after
//! acting, so a run that was interrupted resumes exactly where it stopped, a failed node
//! is rolled back automatically, and the journal exports as a post-mortem.
//!
//! The library API is internal to the `ringmaster` binary; `docs/DESIGN.md` is the map.

pub mod cassandra;
pub mod cli;
pub mod clock;
pub mod driver;
pub mod export;
pub mod history;
pub mod host;
pub mod inventory;
pub mod journal;
pub mod position;
pub mod preflight;
pub mod run;
pub mod sandbox;
pub mod secrets;
pub mod topology;
pub mod transport;
pub mod ui;
pub mod workflow;

pub use cli::run;
