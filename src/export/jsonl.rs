//! The versioned JSON Lines export: one header line with the run, then one line per event.
//!
//! The line shapes are Rust structs deriving `Serialize`, documented field by field in
//! `docs/journal-schema.md` and as JSON Schema in `docs/journal-schema.json`. The same
//! [`EventLine`] is what `ringmaster run --events-json` streams, so automation reads one
//! format. A change to either shape bumps its version in [`RUN_SCHEMA`] / [`EVENT_SCHEMA`].

use serde::Serialize;

use crate::journal::{Event, EventKind, Run, format_unix_ms};

/// `schema` of the header line.
pub const RUN_SCHEMA: &str = "ringmaster.run/1";
/// `schema` of every event line.
pub const EVENT_SCHEMA: &str = "ringmaster.event/1";

/// The first line of an export: who ran what, when, and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct RunLine<'a> {
    pub schema: &'static str,
    pub run_id: &'a str,
    pub cluster: &'a str,
    pub started_at: i64,
    pub started: String,
    pub operator: &'a str,
    pub host: &'a str,
    pub pid: u32,
    pub command: &'a str,
    pub inventory_path: &'a str,
    pub inventory: &'a serde_json::Value,
    pub workflow: &'a str,
    pub state: &'a str,
    pub events: usize,
}

impl<'a> RunLine<'a> {
    /// Returns the header line of `run`, whose state is `state` after `events` events.
    pub fn new(run: &'a Run, state: &'a str, events: usize) -> RunLine<'a> {
        RunLine {
            schema: RUN_SCHEMA,
            run_id: &run.id.0,
            cluster: &run.cluster,
            started_at: run.started_at,
            started: format_unix_ms(run.started_at),
            operator: &run.operator,
            host: &run.host,
            pid: run.pid,
            command: &run.command,
            inventory_path: &run.inventory_path,
            inventory: &run.inventory,
            workflow: &run.workflow,
            state,
            events,
        }
    }
}

/// One journaled event.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine<'a> {
    pub schema: &'static str,
    pub run_id: &'a str,
    pub seq: i64,
    pub at: i64,
    pub time: String,
    pub node: Option<&'a str>,
    pub pass: Option<&'a str>,
    pub phase: &'a str,
    pub kind: EventKind,
    pub detail: &'a serde_json::Value,
    pub reverts: Option<i64>,
}

impl<'a> From<&'a Event> for EventLine<'a> {
    fn from(e: &'a Event) -> EventLine<'a> {
        EventLine {
            schema: EVENT_SCHEMA,
            run_id: &e.run_id.0,
            seq: e.seq,
            at: e.at,
            time: format_unix_ms(e.at),
            node: e.node.as_deref(),
            pass: e.pass.as_deref(),
            phase: &e.phase,
            kind: e.kind,
            detail: &e.detail,
            reverts: e.reverts,
        }
    }
}

/// Returns one event as a single JSON line (no trailing newline).
pub fn event_line(e: &Event) -> String {
    serde_json::to_string(&EventLine::from(e)).expect("BUG: an event line serializes")
}

/// Renders the header and every event, one JSON document per line.
pub fn render(run: &Run, state: &str, events: &[Event]) -> String {
    let mut out = serde_json::to_string(&RunLine::new(run, state, events.len())).expect("BUG: the run line serializes");
    out.push('\n');
    for e in events {
        out.push_str(&event_line(e));
        out.push('\n');
    }
    out
}
