//! What may reach a terminal: text from nodes (system.log lines, `nodetool` output), from
//! the inventory (cluster names, paths) and from the journal is shown with its control
//! characters escaped, so an escape sequence in a log line cannot recolour, move the
//! cursor of or retitle the operator's terminal.

use std::borrow::Cow;
use std::fmt::Write;

/// Returns `text` with every control character except `\n` and `\t` written as a `\xNN`
/// (or `\u{NNNN}`) escape; borrowed when there is none, which is nearly always.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::printable;
    use std::borrow::Cow;

    #[test]
    fn recover_2_control_characters_are_escaped_but_lines_and_tabs_kept() {
        assert_eq!(printable("\u{1b}[31mred\u{1b}[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(printable("a\rb\u{7}c\u{7f}d\u{9b}e"), "a\\x0db\\x07c\\x7fd\\x9be");
        assert_eq!(printable("col\tumn\nnext line"), "col\tumn\nnext line");
        assert!(matches!(printable("plain text, ünïcødé"), Cow::Borrowed(_)));
    }
}
