//! Renders the post-mortem document as GitHub-flavoured Markdown.
//!
//! Only the subset [`super::doc`] builds is rendered; every text run is escaped so a log
//! line or node name can never turn into Markdown syntax (or break a table cell).

use super::doc::{Block, Inline};

/// Renders `blocks` as Markdown.
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, inlines) => {
                out.push_str(&"#".repeat(usize::from(*level)));
                out.push(' ');
                out.push_str(&inline(inlines, false));
                out.push_str("\n\n");
            }
            Block::Para(inlines) => {
                out.push_str(&inline(inlines, false));
                out.push_str("\n\n");
            }
            Block::List(items) => {
                for item in items {
                    out.push_str("- ");
                    out.push_str(&inline(item, false));
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::Table { header, rows } => {
                out.push('|');
                for h in header {
                    out.push_str(&format!(" {} |", escape(h, true)));
                }
                out.push_str("\n|");
                for _ in header {
                    out.push_str("---|");
                }
                out.push('\n');
                for row in rows {
                    out.push('|');
                    for cell in row {
                        out.push_str(&format!(" {} |", inline(cell, true)));
                    }
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::Code(text) => {
                let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
                out.push_str(&format!("{fence}text\n{}", text));
                if !text.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!("{fence}\n\n"));
            }
        }
    }
    out
}

fn inline(inlines: &[Inline], in_table: bool) -> String {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Text(s) => escape(s, in_table),
            Inline::Strong(s) => format!("**{}**", escape(s, in_table)),
            Inline::Code(s) => code_span(s, in_table),
        })
        .collect()
}

/// Escapes Markdown punctuation (and newlines, which would end a table row).
fn escape(s: &str, in_table: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' if in_table => out.push_str("<br>"),
            '\n' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

fn code_span(s: &str, in_table: bool) -> String {
    let body = s.replace('\n', " ");
    // In a GFM table a pipe ends the cell even inside a code span unless escaped.
    let body = if in_table { body.replace('|', "\\|") } else { body };
    let fence = "`".repeat(longest_run(&body, '`') + 1);
    let pad = if body.starts_with('`') || body.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{body}{pad}{fence}")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        cur = if c == ch { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup_or_break_a_table() {
        let md = render(&[Block::Table {
            header: vec!["a|b".into()],
            rows: vec![vec![vec![Inline::Text("x | *y*\nz".into()), Inline::Code("p|q`r".into())]]],
        }]);
        assert_eq!(md, "| a\\|b |\n|---|\n| x \\| \\*y\\*<br>z``p\\|q`r`` |\n\n");
    }

    #[test]
    fn code_blocks_use_a_fence_longer_than_any_backtick_run_inside() {
        let md = render(&[Block::Code("a ```` b".into())]);
        assert!(md.starts_with("`````text\n"), "{md}");
    }
}
