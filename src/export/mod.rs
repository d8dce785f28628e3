//! Export of a journaled run for post-mortems and automation: versioned JSON Lines,
//! a Markdown report, and a self-contained HTML page with an SVG timeline.
//!
//! The journal is the single source: [`model::PostMortem`] reads a run's events once,
//! [`doc`] turns it into a small document tree, and [`markdown`] and [`html`] render
//! that tree, so both reports say the same thing. [`jsonl`] serializes the events
//! themselves through documented view structs (`docs/journal-schema.md`). Events were
//! redacted when they were journaled; exports add nothing that was not in the journal.

pub mod doc;
pub mod html;
pub mod jsonl;
pub mod markdown;
pub mod model;

use crate::journal::{Event, Run};

pub use model::PostMortem;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON Lines: a `ringmaster.run/1` header, then one `ringmaster.event/1` line per event
    Jsonl,
    /// Markdown post-mortem
    Md,
    /// Self-contained HTML page: SVG timeline plus the post-mortem
    Html,
}

impl std::fmt::Display for Format {
    /// The name `--format` takes (`jsonl`, `md`, `html`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Jsonl => "jsonl",
            Format::Md => "md",
            Format::Html => "html",
        })
    }
}

/// Renders `run` and its `events` (ordered by `seq`) in `format`.
pub fn render(run: &Run, events: &[Event], format: Format) -> String {
    let pm = PostMortem::build(run, events);
    match format {
        Format::Jsonl => jsonl::render(run, pm.state.name(), events),
        Format::Md => markdown::render(&doc::document(&pm)),
        Format::Html => html::render(&pm, &doc::document(&pm)),
    }
}
