//! The one integration test binary (cargo target `it`): one module per area, the shared
//! helpers in `support`. Run one area with `cargo test --test it MODULE::`, e.g.
//! `cargo test --test it journal_concurrency::`. A new test file goes here as
//! `tests/it/NAME.rs` with a `mod NAME;` line below, never as `tests/NAME.rs` (its own
//! binary: another link of the whole crate); `layout` fails the suite when one is forgotten.

mod support;

mod batches;
mod bench_smoke;
mod crash_harness;
mod e2e_cassandra;
mod export;
mod export_cli;
mod faults;
mod inspect;
mod inventory_import;
mod journal_concurrency;
mod journal_events;
mod journal_lock;
mod journal_open;
mod journal_schema;
mod layout;
mod log_excerpts;
mod log_rules;
mod operator;
mod preflight;
mod preflight_stage_keys;
mod recover;
mod recover_input;
mod recover_output;
mod recover_safety;
mod render;
mod repo_rules;
mod rollout;
mod sandbox_cluster;
mod sandbox_init;
mod sandbox_topology;
mod secret_command;
mod ssh_bench;
mod ssh_errors;
mod ssh_ops;
mod ssh_reconnect;
mod ssh_rollout;
mod ssh_secrets;
mod status_fixtures;
mod status_garbage;
mod testbed_scale;
mod topology_fixtures;
mod topology_proptest;
mod yaml_fixtures;
mod yaml_proptest;
mod yaml_variants;
