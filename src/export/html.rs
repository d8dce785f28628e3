//! Renders the post-mortem as ONE self-contained HTML file: an SVG timeline of every
//! node's phases in each pass, then the same text as the Markdown export.
//!
//! Nothing is loaded from anywhere (no fonts, scripts or images; CSS is inline and
//! there is no JavaScript), so the file can be mailed, archived and opened offline.
//! Each phase attempt is one `<rect class="bar OUTCOME">` carrying `data-node`,
//! `data-pass`, `data-phase` and `data-seq`, with a `<title>` child that browsers show
//! on hover. Long idle stretches (a run failed at night, resumed in the morning) are
//! cut out of the time axis and drawn as a marked break, so the phases stay readable. A
//! pause the operator asked for (`--stop-after`, a pause after a pass) is always a break of
//! its own, `<rect class="pause">` labelled with its duration.

use std::fmt::Write as _;

use super::doc::{Block, Inline, format_duration_ms};
use super::model::{BarOutcome, PostMortem};
use crate::history::Pause;
use crate::journal::format_unix_ms;

const WIDTH: f64 = 1340.0;
const LABEL_W: f64 = 190.0;
const RIGHT_PAD: f64 = 20.0;
const ROW_H: f64 = 22.0;
const BAR_H: f64 = 14.0;
const PASS_H: f64 = 22.0;
const AXIS_H: f64 = 34.0;
const BREAK_W: f64 = 26.0;
/// A pause's break: wide enough for its label ("paused 24 h 00 min").
const PAUSE_W: f64 = 112.0;
const MIN_BAR_W: f64 = 2.0;
/// A failed or interrupted phase must stay visible even when it took no time.
const MIN_PROBLEM_W: f64 = 7.0;

const CSS: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d2329; background: #fff; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #dde; } h3 { font-size: 15px; }
code { font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; background: #f2f3f5; padding: 0 3px; border-radius: 3px; }
pre { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #f6f7f9; border: 1px solid #e1e4e8; padding: 10px; overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #d5d9de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f3f5; }
svg.timeline { display: block; margin: 12px 0 20px; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg text.lane { font-size: 12px; } svg text.pass { font-weight: 600; font-size: 12px; } svg text.inbar { fill: #fff; font-size: 10px; pointer-events: none; }
svg .grid { stroke: #e4e6ea; } svg .axis { stroke: #99a; }
rect.bar { stroke: #fff; stroke-width: 1; } rect.bar:hover { stroke: #111; } rect.bar.fail, rect.bar.interrupted { stroke: #5a1010; }
rect.ok { fill: #2e9d5b; } rect.fail { fill: #d64541; } rect.interrupted { fill: #e59a0b; }
rect.rollback { fill-opacity: 0.6; }
rect.preflight { fill: #3b7dd8; stroke: #fff; } rect.preflight.blocked { fill: #d64541; stroke: #5a1010; }
rect.gap { fill: url(#hatch); } rect.pause { fill: #ece7f8; stroke: #6b4fbb; stroke-dasharray: 2 2; } svg text.pause { fill: #4b3596; font-size: 10.5px; font-weight: 600; } line.mark { stroke: #6b4fbb; stroke-dasharray: 4 3; }
"#;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Renders the whole HTML page.
pub fn render(pm: &PostMortem, blocks: &[Block]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ringmaster run {} ({})</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&pm.run.id.0),
        esc(&pm.run.cluster)
    );
    let mut blocks = blocks.iter();
    // The heading first, then the timeline, then the rest of the post-mortem.
    if let Some(first) = blocks.next() {
        out.push_str(&block(first));
    }
    out.push_str("<h2>Timeline</h2>\n");
    out.push_str(&timeline(pm));
    for b in blocks {
        out.push_str(&block(b));
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn inline(inlines: &[Inline]) -> String {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Text(s) => esc(s),
            Inline::Code(s) => format!("<code>{}</code>", esc(s)),
            Inline::Strong(s) => format!("<strong>{}</strong>", esc(s)),
        })
        .collect()
}

fn block(b: &Block) -> String {
    match b {
        Block::Heading(level, inlines) => format!("<h{level}>{}</h{level}>\n", inline(inlines)),
        Block::Para(inlines) => format!("<p>{}</p>\n", inline(inlines)),
        Block::List(items) => {
            let lis: String = items.iter().map(|i| format!("<li>{}</li>\n", inline(i))).collect();
            format!("<ul>\n{lis}</ul>\n")
        }
        Block::Table { header, rows } => {
            let mut s = String::from("<table>\n");
            if header.iter().any(|h| !h.is_empty()) {
                s.push_str("<thead><tr>");
                for h in header {
                    let _ = write!(s, "<th>{}</th>", esc(h));
                }
                s.push_str("</tr></thead>\n");
            }
            s.push_str("<tbody>\n");
            for row in rows {
                s.push_str("<tr>");
                for cell in row {
                    let _ = write!(s, "<td>{}</td>", inline(cell).replace('\n', "<br>"));
                }
                s.push_str("</tr>\n");
            }
            s.push_str("</tbody></table>\n");
            s
        }
        Block::Code(text) => format!("<pre>{}</pre>\n", esc(text)),
    }
}

/// A stretch of time drawn to scale, from `t0` to `t1` (unix ms), starting at pixel `x`.
#[derive(Debug, Clone)]
struct Span {
    t0: i64,
    t1: i64,
    x: f64,
    /// The pause the operator asked for that the gap after this span holds: its duration
    /// (`None`: not resumed yet) and its description.
    pause_after: Option<(Option<i64>, String)>,
}

impl Span {
    /// Returns the width of the break drawn after this span (none after the last one,
    /// unless the run is still paused there).
    fn break_w(&self, last: bool) -> f64 {
        match (&self.pause_after, last) {
            (Some(_), _) => PAUSE_W,
            (None, false) => BREAK_W,
            (None, true) => 0.0,
        }
    }
}

/// Maps times to pixels, cutting idle gaps out of the axis; a pause always gets a break
/// of its own, however short, so the timeline shows where the run waited for the operator.
struct Axis {
    spans: Vec<Span>,
    scale: f64,
}

impl Axis {
    /// An axis over the busy `intervals` (unix ms) of a run that started at `start`.
    fn new(mut intervals: Vec<(i64, i64)>, start: i64, pauses: &[Pause]) -> Axis {
        intervals.push((start, start));
        intervals.sort();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (a, b) in intervals {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let busy: i64 = merged.iter().map(|(a, b)| b - a).sum();
        // A gap is idle when it is both long in absolute terms and long next to the work.
        let threshold = 5_000.max(busy / 4);
        let paused_in = |from: i64, to: i64| pauses.iter().find(|p| p.at >= from && p.at < to);
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for (a, b) in merged {
            match spans.last_mut() {
                Some(last) if a - last.1 <= threshold && paused_in(last.1, a).is_none() => last.1 = b,
                _ => spans.push((a, b)),
            }
        }
        let n = spans.len();
        let mut spans: Vec<Span> = spans
            .iter()
            .enumerate()
            .map(|(i, &(t0, t1))| {
                let until = spans.get(i + 1).map_or(i64::MAX, |next| next.0);
                let pause_after = paused_in(t1, until).map(|p| {
                    let ms = p.resumed_at.map(|end| end - p.at);
                    let text = match ms {
                        Some(ms) => format!("paused {} for {}, not to scale", p.place(), format_duration_ms(ms)),
                        None => format!("paused {} since {}, not resumed yet", p.place(), format_unix_ms(p.at)),
                    };
                    (ms, text)
                });
                Span { t0, t1, x: 0.0, pause_after }
            })
            .collect();
        let breaks: f64 = spans.iter().enumerate().map(|(i, s)| s.break_w(i + 1 == n)).sum();
        let total: i64 = spans.iter().map(|s| s.t1 - s.t0).sum::<i64>().max(1);
        let scale = (WIDTH - LABEL_W - RIGHT_PAD - breaks) / total as f64;
        let mut x = LABEL_W;
        for (i, span) in spans.iter_mut().enumerate() {
            span.x = x;
            x += (span.t1 - span.t0) as f64 * scale + span.break_w(i + 1 == n);
        }
        Axis { spans, scale }
    }

    /// Returns the milliseconds drawn to scale (the breaks left out).
    fn drawn_ms(&self) -> i64 {
        self.spans.iter().map(|s| s.t1 - s.t0).sum()
    }

    fn x(&self, t: i64) -> f64 {
        let span = self.spans.iter().rev().find(|s| s.t0 <= t).or(self.spans.first()).expect("BUG: an axis has a span");
        span.x + (t.clamp(span.t0, span.t1) - span.t0) as f64 * self.scale
    }
}

/// Picks a tick step giving at most about ten ticks over `ms`.
fn tick_step(ms: i64) -> i64 {
    const STEPS: [i64; 16] =
        [50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000];
    STEPS.iter().copied().find(|s| ms / s <= 10).unwrap_or(21_600_000)
}

fn timeline(pm: &PostMortem) -> String {
    let start = pm.run.started_at;
    let busy: Vec<(i64, i64)> = pm
        .bars
        .iter()
        .map(|b| (b.start, b.end))
        .chain(pm.notes.iter().map(|n| (n.at, n.at)))
        .chain(pm.preflights.iter().map(|p| (p.start, p.end)))
        .collect();
    let axis = Axis::new(busy, start, &pm.pauses);
    // One lane for preflight (when the journal has it), then a header and a lane per node
    // for each pass, in the order the passes ran.
    let preflight_lane = if pm.preflights.is_empty() { 0.0 } else { ROW_H };
    let lanes: usize = pm.passes.iter().map(|p| p.nodes.len()).sum();
    let height = AXIS_H + preflight_lane + pm.passes.len() as f64 * PASS_H + lanes as f64 * ROW_H + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"timeline of every node's phases in each pass\">"
    );
    s.push_str("<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f4f4f6\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c9cbd3\" stroke-width=\"2\"/></pattern></defs>\n");
    let bottom = height - 40.0;
    // Axis: ticks inside each span, and a hatched break between spans (a pause: a
    // labelled break of its own).
    let step = tick_step(axis.drawn_ms().max(1));
    for (i, span) in axis.spans.iter().enumerate() {
        let mut t = span.t0 - (span.t0 - start).rem_euclid(step);
        if t < span.t0 {
            t += step;
        }
        while t <= span.t1 {
            let x = axis.x(t);
            let _ = writeln!(
                s,
                "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{AXIS_H}\" x2=\"{x:.1}\" y2=\"{bottom}\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">+{}</text>",
                AXIS_H - 8.0,
                esc(&format_duration_ms(t - start))
            );
            t += step;
        }
        let x = span.x + (span.t1 - span.t0) as f64 * axis.scale;
        if let Some((ms, text)) = &span.pause_after {
            let label = match ms {
                Some(ms) => format!("paused {}", format_duration_ms(*ms)),
                None => "paused".to_string(),
            };
            let _ = writeln!(
                s,
                "<rect class=\"pause\" x=\"{x:.1}\" y=\"{AXIS_H}\" width=\"{PAUSE_W}\" height=\"{}\"><title>{}</title></rect><text class=\"pause\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                bottom - AXIS_H,
                esc(text),
                x + PAUSE_W / 2.0,
                AXIS_H + 14.0,
                esc(&label)
            );
        } else if let Some(next) = axis.spans.get(i + 1) {
            let _ = writeln!(
                s,
                "<rect class=\"gap\" x=\"{x:.1}\" y=\"{AXIS_H}\" width=\"{BREAK_W}\" height=\"{}\"><title>{} with no activity, not to scale</title></rect>",
                bottom - AXIS_H,
                esc(&format_duration_ms(next.t0 - span.t1))
            );
        }
    }
    let _ = writeln!(s, "<line class=\"axis\" x1=\"{LABEL_W}\" y1=\"{AXIS_H}\" x2=\"{}\" y2=\"{AXIS_H}\"/>", WIDTH - RIGHT_PAD);
    let mut y = AXIS_H;
    if !pm.preflights.is_empty() {
        let _ = writeln!(s, "<text class=\"pass\" x=\"4\" y=\"{:.1}\">preflight</text>", y + 15.0);
        for p in &pm.preflights {
            let x0 = axis.x(p.start);
            let w = (axis.x(p.end) - x0).max(MIN_PROBLEM_W);
            let verdict = if p.blockers == 0 { "passed" } else { "blocked" };
            let title = format!(
                "preflight of {} node(s): {verdict}, {} blocker(s), {} warning(s), {} (seq {}, {})",
                p.nodes,
                p.blockers,
                p.warnings,
                format_duration_ms(p.end - p.start),
                p.seq,
                format_unix_ms(p.start)
            );
            let _ = writeln!(
                s,
                "<rect class=\"preflight {verdict}\" data-seq=\"{}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\"><title>{}</title></rect>",
                p.seq,
                y + (ROW_H - BAR_H) / 2.0,
                esc(&title)
            );
        }
        y += ROW_H;
    }
    for pass in &pm.passes {
        let _ = writeln!(s, "<text class=\"pass\" x=\"4\" y=\"{:.1}\">pass {}</text>", y + 16.0, esc(&pass.name));
        y += PASS_H;
        for row in &pass.nodes {
            let _ = writeln!(s, "<text class=\"lane\" x=\"16\" y=\"{:.1}\">{} ({})</text>", y + 15.0, esc(&row.node), esc(&row.result));
            for bar in pm.bars.iter().filter(|b| b.pass == pass.name && b.node == row.node) {
                let x0 = axis.x(bar.start);
                let w = (axis.x(bar.end) - x0).max(if bar.outcome == BarOutcome::Ok { MIN_BAR_W } else { MIN_PROBLEM_W });
                let rollback = if bar.phase.starts_with("rollback") { " rollback" } else { "" };
                let mut title = format!(
                    "{} · pass {} · {}: {}, {} (seq {}, {})",
                    bar.node,
                    bar.pass,
                    bar.phase,
                    bar.outcome.as_str(),
                    format_duration_ms(bar.end - bar.start),
                    bar.seq,
                    format_unix_ms(bar.start)
                );
                if let Some(e) = &bar.error {
                    title.push_str(&format!("\n{e}"));
                }
                let _ = writeln!(
                    s,
                    "<rect class=\"bar {}{rollback}\" data-node=\"{}\" data-pass=\"{}\" data-phase=\"{}\" data-seq=\"{}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\"><title>{}</title></rect>",
                    bar.outcome.as_str(),
                    esc(&bar.node),
                    esc(&bar.pass),
                    esc(&bar.phase),
                    bar.seq,
                    y + (ROW_H - BAR_H) / 2.0,
                    esc(&title)
                );
                // Name the phase inside its bar when it fits (about 6 px a character).
                if w >= bar.phase.len() as f64 * 6.0 + 6.0 {
                    let _ = writeln!(s, "<text class=\"inbar\" x=\"{:.1}\" y=\"{:.1}\">{}</text>", x0 + 3.0, y + 14.5, esc(&bar.phase));
                }
            }
            y += ROW_H;
        }
    }
    for n in &pm.notes {
        let x = axis.x(n.at);
        let _ = writeln!(
            s,
            "<line class=\"mark\" x1=\"{x:.1}\" y1=\"{AXIS_H}\" x2=\"{x:.1}\" y2=\"{bottom}\"><title>{}</title></line>",
            esc(&format!("seq {}: {}", n.seq, n.text))
        );
    }
    // Legend.
    let ly = bottom + 20.0;
    let mut lx = LABEL_W;
    for (class, label) in [
        ("ok", "ok"),
        ("fail", "failed"),
        ("interrupted", "interrupted (no outcome journaled)"),
        ("ok rollback", "rollback phase"),
        ("preflight passed", "preflight"),
        ("pause", "paused (resume)"),
    ] {
        let _ = writeln!(
            s,
            "<rect class=\"legend {class}\" x=\"{lx}\" y=\"{}\" width=\"14\" height=\"10\"/><text x=\"{}\" y=\"{ly}\">{label}</text>",
            ly - 9.0,
            lx + 18.0
        );
        lx += 40.0 + label.len() as f64 * 6.0;
    }
    let _ = writeln!(
        s,
        "<line class=\"mark\" x1=\"{lx}\" y1=\"{}\" x2=\"{lx}\" y2=\"{}\"/><text x=\"{}\" y=\"{ly}\">run event (failed, retry, resumed, interrupted)</text>",
        ly - 11.0,
        ly + 2.0,
        lx + 6.0
    );
    s.push_str("</svg>\n");
    s
}
