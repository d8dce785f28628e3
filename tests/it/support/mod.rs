//! Helpers shared by the test modules.

pub mod journal;
pub mod sandbox;
pub mod sandbox_cli;
pub mod ssh;
pub mod yaml;
