//! The post-mortem as a tiny document tree (headings, paragraphs, lists, tables, code),
//! built once from the [`PostMortem`] and rendered by both `markdown` and `html`.
//!
//! Building the text once keeps the two formats word for word the same, and each
//! renderer only has to escape its own syntax for this small subset, instead of HTML
//! having to parse Markdown.

use super::model::{BarOutcome, PostMortem};
use crate::journal::format_unix_ms;

/// A run of inline text.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Code(String),
    Strong(String),
}

/// A block of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(u8, Vec<Inline>),
    Para(Vec<Inline>),
    List(Vec<Vec<Inline>>),
    Table { header: Vec<String>, rows: Vec<Vec<Vec<Inline>>> },
    Code(String),
}

fn t(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}
fn c(s: impl Into<String>) -> Inline {
    Inline::Code(s.into())
}
fn b(s: impl Into<String>) -> Inline {
    Inline::Strong(s.into())
}

/// Formats milliseconds for people: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn format_duration_ms(ms: i64) -> String {
    match ms {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms if ms < 3_600_000 => format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60),
        ms => format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

/// Builds the post-mortem document.
pub fn document(pm: &PostMortem) -> Vec<Block> {
    let run = &pm.run;
    let mut out = vec![Block::Heading(1, vec![t("Post-mortem of ringmaster run "), c(run.id.to_string())])];
    let workflow_passes = pm.passes.iter().filter(|p| !p.undo).map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let kv = |k: &str, v: Vec<Inline>| vec![vec![b(k)], v];
    out.push(Block::Table {
        header: vec!["".into(), "".into()],
        rows: vec![
            kv("outcome", vec![t(pm.outcome.clone())]),
            kv("cluster", vec![c(run.cluster.clone())]),
            kv("operator", vec![t(format!("{} on {} (pid {})", run.operator, run.host, run.pid))]),
            kv("command", vec![c(run.command.clone())]),
            kv("inventory", vec![c(run.inventory_path.clone())]),
            kv("workflow", vec![c(pm.workflow_name.clone()), t(format!(", passes {workflow_passes}"))]),
            kv("started", vec![t(format_unix_ms(run.started_at))]),
            kv("last event", vec![t(format_unix_ms(pm.ended_at))]),
            kv("duration", vec![t(format_duration_ms(pm.duration_ms()))]),
            kv("journal events", vec![t(pm.event_count.to_string())]),
        ],
    });

    if !pm.preflights.is_empty() {
        out.push(Block::Heading(2, vec![t("Preflight")]));
        out.push(Block::List(
            pm.preflights
                .iter()
                .map(|p| {
                    let verdict = if p.blockers == 0 { "passed" } else { "refused" };
                    vec![t(format!(
                        "seq {} at {}: {verdict} in {}, the cluster and {} node(s), {} blocker(s), {} warning(s)",
                        p.seq,
                        format_unix_ms(p.start),
                        format_duration_ms(p.end - p.start),
                        p.nodes,
                        p.blockers,
                        p.warnings
                    ))]
                })
                .collect(),
        ));
    }

    for pass in &pm.passes {
        let title = if pass.undo { "Undo pass " } else { "Pass " };
        out.push(Block::Heading(2, vec![t(title), c(pass.name.clone())]));
        let mut phases: Vec<String> = Vec::new();
        for row in &pass.nodes {
            for (p, _) in &row.phase_ms {
                if !phases.contains(p) {
                    phases.push(p.clone());
                }
            }
        }
        phases.sort_by_key(|p| super::model::phase_rank(p));
        let mut header: Vec<String> = vec!["node".into(), "result".into(), "attempts".into(), "restarts".into(), "restart to UN".into()];
        header.extend(phases.iter().cloned());
        let rows =
            pass.nodes
                .iter()
                .map(|row| {
                    let un =
                        row.restart_to_un_ms
                            .iter()
                            .map(|(phase, ms)| {
                                if phase == "await_un" { format_duration_ms(*ms) } else { format!("{} ({phase})", format_duration_ms(*ms)) }
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                    let mut cells = vec![
                        vec![c(row.node.clone())],
                        vec![if row.result == "done" { t(row.result.clone()) } else { b(row.result.clone()) }],
                        vec![t(row.attempts.to_string())],
                        vec![t(row.restarts.to_string())],
                        vec![t(if un.is_empty() { "-".into() } else { un })],
                    ];
                    for p in &phases {
                        let cell =
                            row.phase_ms.iter().find(|(q, _)| q == p).map(|(_, ms)| format_duration_ms(*ms)).unwrap_or_else(|| "-".into());
                        cells.push(vec![t(cell)]);
                    }
                    cells
                })
                .collect();
        out.push(Block::Table { header, rows });
    }

    out.push(Block::Heading(2, vec![t("Failures")]));
    if pm.failures.is_empty() {
        out.push(Block::Para(vec![t("No phase failed.")]));
    }
    for f in &pm.failures {
        let mut title = vec![];
        match (&f.node, &f.pass) {
            (Some(node), Some(pass)) => title.extend([c(node.clone()), t(" in pass "), c(pass.clone()), t(", phase "), c(f.phase.clone())]),
            _ => title.extend([t("run-level "), c(f.phase.clone())]),
        }
        title.push(t(format!(" (seq {}, {})", f.seq, format_unix_ms(f.at))));
        out.push(Block::Heading(3, title));
        if let Some(e) = &f.error {
            out.push(Block::Para(vec![b("error:"), t(" "), t(e.clone())]));
        }
        if !f.evidence.is_empty() {
            out.push(Block::Para(vec![t("Evidence from system.log:")]));
            let mut text = String::new();
            for (line, context) in &f.evidence {
                text.push_str(line);
                text.push('\n');
                for l in context {
                    text.push_str(l);
                    text.push('\n');
                }
            }
            out.push(Block::Code(text));
        }
        if !f.views.is_empty() {
            out.push(Block::Para(vec![t("What `nodetool status` on each node said:")]));
            out.push(Block::List(f.views.iter().map(|(from, seen)| vec![t("on "), c(from.clone()), t(": "), t(seen.clone())]).collect()));
        }
        if let Some(stderr) = &f.stderr {
            out.push(Block::Para(vec![t("stderr:")]));
            out.push(Block::Code(stderr.clone()));
        }
    }

    out.push(Block::Heading(2, vec![t("Rollbacks")]));
    if pm.rollbacks.is_empty() {
        out.push(Block::Para(vec![t("No node was rolled back.")]));
    } else {
        out.push(Block::List(
            pm.rollbacks
                .iter()
                .map(|r| {
                    let steps = r.steps.iter().map(|(p, k)| format!("{p} {k}")).collect::<Vec<_>>().join(", ");
                    let mut line =
                        vec![c(r.node.clone()), t(" in pass "), c(r.pass.clone()), t(format!(": {steps}; ended ")), b(r.result.clone())];
                    for (seq, reverts) in &r.reverts {
                        line.push(t(format!("; seq {seq} reverts seq {reverts}")));
                    }
                    line
                })
                .collect(),
        ));
    }

    if !pm.pauses.is_empty() {
        out.push(Block::Heading(2, vec![t("Pauses")]));
        out.push(Block::List(
            pm.pauses
                .iter()
                .map(|p| {
                    vec![t(match p.resumed_at {
                        Some(end) => format!(
                            "paused {} for {} (from {} to {})",
                            p.place(),
                            format_duration_ms(end - p.at),
                            format_unix_ms(p.at),
                            format_unix_ms(end)
                        ),
                        None => format!("paused {} since {}, not resumed yet", p.place(), format_unix_ms(p.at)),
                    })]
                })
                .collect(),
        ));
    }

    out.push(Block::Heading(2, vec![t("Interruptions and resumes")]));
    if pm.notes.is_empty() {
        out.push(Block::Para(vec![t("The run was never interrupted or resumed.")]));
    } else {
        out.push(Block::List(
            pm.notes.iter().map(|n| vec![t(format!("seq {} at {}: ", n.seq, format_unix_ms(n.at))), t(n.text.clone())]).collect(),
        ));
    }
    let interrupted = pm.bars.iter().filter(|b| b.outcome == BarOutcome::Interrupted).count();
    if interrupted > 0 {
        out.push(Block::Para(vec![t(format!(
            "{interrupted} phase(s) were entered and never journaled an outcome before being entered again or the journal ended."
        ))]));
    }
    out
}
