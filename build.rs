//! Build script: rebuilds the crate when a migration changes.
//!
//! `src/journal/migrate.rs` embeds `migrations/*.sql` with `include_str!`; cargo already
//! tracks those files, but not a *new* file dropped into the folder, so we watch the
//! folder itself and a forgotten migration shows up in the next build's test
//! (`journal::migrate::tests::every_migration_file_is_embedded`).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
