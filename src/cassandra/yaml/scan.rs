//! The line model of cassandra.yaml and the scanner that finds `server_encryption_options`.
//!
//! The editor works on lines, not on a re-emitted tree, so that every byte it does not mean to
//! change (comments, blank lines, key order, quoting, line endings) stays as it was. The scanner
//! relies on one property of block YAML: a line that starts at column 0 with something other
//! than `#` is top-level structure (a key, `---`, `...`), because every nested node, block
//! scalar line and flow continuation of a top-level value must be indented. So the block runs
//! from its key line to the next such line; inside it, the lines at the indentation of the
//! first child are the block's keys. Anything the scanner does not understand is refused with
//! its line, and the full YAML parse in `verify` backs the scanner up.

use std::collections::BTreeSet;

use super::YamlError;
use super::scalar::{Raw, scan_value};

/// The top-level key this module edits.
pub(crate) const BLOCK_KEY: &str = "server_encryption_options";

/// One line of the file, without and with its line ending.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    /// The text, without the line ending.
    pub text: &'a str,
    /// `"\n"`, `"\r\n"`, or `""` for a last line without a final newline.
    pub eol: &'a str,
}

impl Line<'_> {
    /// Returns the number of leading spaces and tabs.
    pub(crate) fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches([' ', '\t']).len()
    }

    /// Returns true for a line holding only blanks.
    pub(crate) fn is_blank(&self) -> bool {
        self.text.trim_start_matches([' ', '\t']).is_empty()
    }

    /// Returns true for a comment line (possibly indented).
    pub(crate) fn is_comment(&self) -> bool {
        self.text.trim_start_matches([' ', '\t']).starts_with('#')
    }

    /// Returns true for a non-blank, non-comment line.
    pub(crate) fn is_content(&self) -> bool {
        !self.is_blank() && !self.is_comment()
    }
}

/// The file as lines, with what must be restored around them.
#[derive(Debug, Clone)]
pub(crate) struct Doc<'a> {
    /// The text after the BOM.
    pub text: &'a str,
    /// Whether the file started with a UTF-8 byte order mark.
    pub bom: bool,
    /// The lines.
    pub lines: Vec<Line<'a>>,
    /// The line ending to use for a new line: the file's first one, `"\n"` if it has none.
    pub eol: &'static str,
}

const BOM: &str = "\u{feff}";

/// Splits the file into lines, keeping its BOM and line endings.
pub(crate) fn split<'a>(path: &str, input: &'a [u8]) -> Result<Doc<'a>, YamlError> {
    let text = std::str::from_utf8(input)
        .map_err(|e| YamlError::NotUtf8 { path: path.to_owned(), line: line_of_offset(&input[..e.valid_up_to()]) })?;
    let bom = text.starts_with(BOM);
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, tail) = match rest.find('\n') {
            Some(i) => (&rest[..=i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (body, eol) = if let Some(body) = line.strip_suffix("\r\n") {
            (body, &line[body.len()..])
        } else if let Some(body) = line.strip_suffix('\n') {
            (body, &line[body.len()..])
        } else {
            (line, "")
        };
        if body.contains('\r') {
            return Err(YamlError::BareCarriageReturn { path: path.to_owned(), line: lines.len() + 1 });
        }
        lines.push(Line { text: body, eol });
        rest = tail;
    }
    let eol = match lines.iter().find(|l| !l.eol.is_empty()) {
        Some(l) if l.eol == "\r\n" => "\r\n",
        _ => "\n",
    };
    Ok(Doc { text, bom, lines, eol })
}

/// Returns the 1-based line number of the end of `bytes`.
fn line_of_offset(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count() + 1
}

/// A live key of the block.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    /// The key, unquoted.
    pub key: String,
    /// Index of its line.
    pub line: usize,
    /// Byte offset of the value in the line (after `: `), and the value, or why it cannot be
    /// rewritten in place.
    pub value: Result<(usize, usize, Raw), &'static str>,
    /// Byte offset just after the colon.
    pub colon_end: usize,
}

/// A commented-out `# key: value` line inside the block.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    /// The key named in the comment.
    pub key: String,
    /// Index of its line.
    pub line: usize,
    /// False when a live line right below it is nested deeper (inserting there would cut a
    /// nested mapping in two).
    pub usable: bool,
}

/// `server_encryption_options` as found in the file.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// Index of the `server_encryption_options:` line.
    pub key_line: usize,
    /// Indentation of the block's keys; `None` when the block has no live key.
    pub indent: Option<usize>,
    /// Live keys, in file order.
    pub children: Vec<Child>,
    /// Commented key lines, in file order.
    pub templates: Vec<Template>,
    /// Index of the last indented line of the block (its key line when there is none); a key
    /// appended "at the end of the block" goes right after it.
    pub last_line: usize,
    /// Index of the first line after the block's region (next top-level line, or the end).
    pub region_end: usize,
}

fn err_line(path: &str, line: usize) -> (String, usize) {
    (path.to_owned(), line + 1)
}

/// Returns the key of a top-level line that defines `server_encryption_options`, and the byte
/// offset just after its colon.
fn block_key_colon(text: &str) -> Option<usize> {
    let (key_len, rest) = [BLOCK_KEY, "\"server_encryption_options\"", "'server_encryption_options'"]
        .iter()
        .find_map(|k| text.strip_prefix(k).map(|rest| (k.len(), rest)))?;
    let after_ws = rest.trim_start_matches([' ', '\t']);
    let tail = after_ws.strip_prefix(':')?;
    (tail.is_empty() || tail.starts_with([' ', '\t'])).then_some(key_len + (rest.len() - after_ws.len()) + 1)
}

/// Finds the block; `Ok(None)` when the file has none.
pub(crate) fn locate(path: &str, doc: &Doc<'_>) -> Result<Option<Block>, YamlError> {
    let lines = &doc.lines;
    let mut found = lines.iter().enumerate().filter_map(|(i, l)| block_key_colon(l.text).map(|c| (i, c)));
    let Some((key_line, colon_end)) = found.next() else {
        return Ok(None);
    };
    if let Some((second, _)) = found.next() {
        return Err(YamlError::DuplicateBlock { path: path.to_owned(), first: key_line + 1, second: second + 1 });
    }
    let after = lines[key_line].text[colon_end..].trim_start_matches([' ', '\t']);
    if after.starts_with('{') {
        return Err(YamlError::FlowStyleBlock { path: path.to_owned(), line: key_line + 1 });
    }
    if !after.is_empty() && !after.starts_with('#') {
        return Err(match scan_value(after) {
            Err(reason) if !after.starts_with('[') => YamlError::UnsupportedValue {
                path: path.to_owned(),
                line: key_line + 1,
                node: BLOCK_KEY.to_owned(),
                reason: reason.to_owned(),
            },
            _ => YamlError::NotAMapping { path: path.to_owned(), line: key_line + 1, what: format!("`{BLOCK_KEY}`") },
        });
    }
    let region_end = (key_line + 1..lines.len())
        .find(|&i| lines[i].text.starts_with(|c: char| c != ' ' && c != '\t' && c != '#'))
        .unwrap_or(lines.len());
    if let Some(i) = (key_line + 1..region_end).find(|&i| {
        let l = &lines[i];
        !l.is_blank() && l.text[..l.indent()].contains('\t')
    }) {
        let (path, line) = err_line(path, i);
        return Err(YamlError::TabIndentation { path, line });
    }
    let mut block = Block { key_line, indent: None, children: Vec::new(), templates: Vec::new(), last_line: key_line, region_end };
    scan_children(path, doc, &mut block)?;
    Ok(Some(block))
}

/// Fills in the block's keys, templates and last line.
fn scan_children(path: &str, doc: &Doc<'_>, block: &mut Block) -> Result<(), YamlError> {
    let lines = &doc.lines;
    // Lines indented deeper than the block's keys after a `key: |` belong to the block scalar,
    // even when they start with `#`.
    let mut in_block_scalar = false;
    for (i, line) in lines.iter().enumerate().take(block.region_end).skip(block.key_line + 1) {
        if line.is_blank() {
            continue;
        }
        let indent = line.indent();
        if in_block_scalar && block.indent.is_some_and(|b| indent > b) {
            block.last_line = i;
            continue;
        }
        in_block_scalar = false;
        if indent > 0 {
            block.last_line = i;
        }
        if line.is_comment() {
            if let Some(key) = template_key(line.text).filter(|_| block.indent.is_none_or(|b| indent <= b)) {
                block.templates.push(Template { key, line: i, usable: true });
            }
            continue;
        }
        let b = *block.indent.get_or_insert(indent);
        if indent > b {
            continue; // nested content of the previous key
        }
        if indent < b {
            let (path, line) = err_line(path, i);
            return Err(YamlError::Indentation { path, line });
        }
        let child = parse_child(path, line.text, indent, i)?;
        if let Some(first) = block.children.iter().find(|c| c.key == child.key) {
            return Err(YamlError::DuplicateKey { path: path.to_owned(), key: child.key.clone(), first: first.line + 1, second: i + 1 });
        }
        in_block_scalar = line.text[child.colon_end..].trim_start_matches([' ', '\t']).starts_with(['|', '>']);
        block.children.push(child);
    }
    // A template is usable unless the next live line below it is nested deeper than the keys.
    for t in &mut block.templates {
        let next = (t.line + 1..block.region_end).map(|i| &lines[i]).find(|l| l.is_content());
        t.usable = match (next, block.indent) {
            (Some(l), Some(b)) => l.indent() <= b,
            _ => true,
        };
    }
    Ok(())
}

/// Returns the key of a `# key: value` comment line (`#key:` and `#  key:` too).
fn template_key(text: &str) -> Option<String> {
    let body = text.trim_start_matches([' ', '\t']).strip_prefix('#')?.trim_start_matches([' ', '\t']);
    let end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let tail = body[end..].trim_start_matches(' ').strip_prefix(':')?;
    (end > 0 && (tail.is_empty() || tail.starts_with([' ', '\t']))).then(|| body[..end].to_owned())
}

/// Parses a `key: value` line of the block.
fn parse_child(path: &str, text: &str, indent: usize, i: usize) -> Result<Child, YamlError> {
    let body = &text[indent..];
    let unsupported = |key: &str, reason: &str| YamlError::UnsupportedValue {
        path: path.to_owned(),
        line: i + 1,
        node: if key.is_empty() { BLOCK_KEY.to_owned() } else { format!("{BLOCK_KEY}.{key}") },
        reason: reason.to_owned(),
    };
    if body.starts_with('{') {
        return Err(YamlError::FlowStyleBlock { path: path.to_owned(), line: i + 1 });
    }
    if body.starts_with('[') || body == "-" || body.starts_with("- ") {
        return Err(YamlError::NotAMapping { path: path.to_owned(), line: i + 1, what: format!("`{BLOCK_KEY}`") });
    }
    let (key, after_key) = match body.as_bytes()[0] {
        b'"' | b'\'' => match scan_value(body) {
            Ok((len, Raw::Quoted(k))) => (k, len),
            _ => match scan_quoted_key(body) {
                Some((k, len)) => (k, len),
                None => return Err(unsupported("", "a key this editor cannot read")),
            },
        },
        b'?' | b'&' | b'!' | b'*' => {
            return Err(unsupported("", "a complex, anchored or tagged key"));
        }
        _ => {
            let colon = (0..body.len())
                .find(|&j| body.as_bytes()[j] == b':' && matches!(body.as_bytes().get(j + 1), None | Some(b' ' | b'\t')))
                .ok_or_else(|| unsupported("", "not a `key: value` line"))?;
            (body[..colon].trim_end_matches([' ', '\t']).to_owned(), colon)
        }
    };
    let after = &body[after_key..];
    let colon = after.len() - after.trim_start_matches([' ', '\t']).len();
    if !after[colon..].starts_with(':') {
        return Err(unsupported(&key, "not a `key: value` line"));
    }
    if key == "<<" {
        return Err(unsupported(&key, "a merge key"));
    }
    let colon_end = indent + after_key + colon + 1;
    let rest = &text[colon_end..];
    let value_start = colon_end + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    let value = scan_value(&text[value_start..]).map(|(len, raw)| (value_start, value_start + len, raw));
    Ok(Child { key, line: i, value, colon_end })
}

/// Reads a quoted key that `scan_value` refused because a colon follows it.
fn scan_quoted_key(body: &str) -> Option<(String, usize)> {
    let quote = body.chars().next()?;
    let close = body[1..].find(quote)? + 1;
    let key = &body[1..close];
    (!key.contains('\\')).then(|| (key.to_owned(), close + 1))
}

/// Returns every key named in the block region, live or commented (for release detection).
pub(crate) fn mentioned_keys(doc: &Doc<'_>) -> BTreeSet<String> {
    let Some(start) = doc.lines.iter().position(|l| block_key_colon(l.text).is_some()) else {
        return BTreeSet::new();
    };
    doc.lines[start + 1..]
        .iter()
        .take_while(|l| !l.text.starts_with(|c: char| c != ' ' && c != '\t' && c != '#'))
        .filter_map(|l| {
            let t = l.text.trim_start_matches([' ', '\t']);
            if t.starts_with('#') {
                template_key(t)
            } else {
                let end = t.find(':')?;
                Some(t[..end].trim_end().to_owned())
            }
        })
        .collect()
}

/// Returns the live top-level keys of the file.
pub(crate) fn top_level_keys(doc: &Doc<'_>) -> BTreeSet<String> {
    doc.lines
        .iter()
        .filter_map(|l| {
            let end = l.text.find(':')?;
            let key = &l.text[..end];
            (!key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then(|| key.to_owned())
        })
        .collect()
}

/// Returns the indentation the file uses for nested mappings (the first indented live line
/// under a top-level key with no inline value), or `None`.
pub(crate) fn file_indent(doc: &Doc<'_>) -> Option<usize> {
    let lines = &doc.lines;
    (0..lines.len()).find_map(|i| {
        let text = lines[i].text;
        let opens = !text.starts_with([' ', '\t', '#', '-']) && text.trim_end().ends_with(':');
        if !opens {
            return None;
        }
        let next = lines[i + 1..].iter().find(|l| l.is_content())?;
        let indent = next.indent();
        (indent > 0 && !next.text.contains('\t') && !next.text.trim_start().starts_with('-')).then_some(indent)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Doc<'_> {
        split("t.yaml", s.as_bytes()).expect("split")
    }

    #[test]
    fn split_keeps_crlf_bom_and_missing_final_newline() {
        let d = split("t", "\u{feff}a: 1\r\nb: 2".as_bytes()).expect("split");
        assert!(d.bom);
        assert_eq!(d.eol, "\r\n");
        assert_eq!((d.lines[0].text, d.lines[0].eol), ("a: 1", "\r\n"));
        assert_eq!((d.lines[1].text, d.lines[1].eol), ("b: 2", ""));
        assert!(matches!(split("t", b"a: 1\rb: 2\n"), Err(YamlError::BareCarriageReturn { line: 1, .. })));
        assert!(matches!(split("t", b"a: 1\nb: \xff\n"), Err(YamlError::NotUtf8 { line: 2, .. })));
    }

    #[test]
    fn locate_finds_keys_templates_and_the_block_end() {
        let text = "a: 1\nserver_encryption_options:\n  # optional: true\n  keystore: k # c\n#  outbound_keystore: x\n  nested:\n    x: 1\n  # tail\n\n# next\nb: 2\n";
        let d = doc(text);
        let b = locate("t", &d).expect("ok").expect("some");
        assert_eq!(b.key_line, 1);
        assert_eq!(b.indent, Some(2));
        assert_eq!(b.children.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["keystore", "nested"]);
        assert_eq!(
            b.templates.iter().map(|t| (t.key.as_str(), t.usable)).collect::<Vec<_>>(),
            [("optional", true), ("outbound_keystore", true)]
        );
        assert_eq!(b.last_line, 7);
        assert_eq!(b.region_end, 10);
        let Ok((s, e, Raw::Plain(v))) = &b.children[0].value else { panic!("plain value") };
        assert_eq!((&d.lines[3].text[*s..*e], v.as_str()), ("k", "k"));
    }

    #[test]
    fn templates_inside_block_scalars_and_before_nested_lines_are_not_used() {
        let text = "server_encryption_options:\n  note: |\n    # optional: true\n  a:\n  # keystore: x\n    b: 1\n";
        let b = locate("t", &doc(text)).expect("ok").expect("some");
        assert_eq!(b.templates.iter().map(|t| (t.key.as_str(), t.usable)).collect::<Vec<_>>(), [("keystore", false)]);
    }

    #[test]
    fn locate_refuses_what_it_cannot_edit_with_the_line() {
        type Check = fn(&YamlError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("server_encryption_options:\n  a: 1\nserver_encryption_options:\n", |e| {
                matches!(e, YamlError::DuplicateBlock { first: 1, second: 3, .. })
            }),
            ("server_encryption_options: {a: 1}\n", |e| matches!(e, YamlError::FlowStyleBlock { line: 1, .. })),
            ("server_encryption_options:\n  {a: 1}\n", |e| matches!(e, YamlError::FlowStyleBlock { line: 2, .. })),
            ("server_encryption_options:\n  a: 1\n\t b: 2\n", |e| matches!(e, YamlError::TabIndentation { line: 3, .. })),
            ("server_encryption_options:\n  a: 1\n  a: 2\n", |e| matches!(e, YamlError::DuplicateKey { first: 2, second: 3, .. })),
            ("server_encryption_options:\n    a: 1\n  b: 2\n", |e| matches!(e, YamlError::Indentation { line: 3, .. })),
            ("server_encryption_options: none\n", |e| matches!(e, YamlError::NotAMapping { line: 1, .. })),
            ("server_encryption_options:\n  - a\n", |e| matches!(e, YamlError::NotAMapping { line: 2, .. })),
            ("server_encryption_options: &x\n  a: 1\n", |e| matches!(e, YamlError::UnsupportedValue { line: 1, .. })),
        ];
        for (text, check) in cases {
            let err = locate("t", &doc(text)).expect_err(text);
            assert!(check(&err), "{text:?}: {err}");
        }
    }

    #[test]
    fn template_key_accepts_the_stock_comment_shapes_only() {
        assert_eq!(template_key("  # optional: true").as_deref(), Some("optional"));
        assert_eq!(template_key("  #keystore_password: cassandra").as_deref(), Some("keystore_password"));
        assert_eq!(template_key("#  outbound_keystore: conf/.keystore").as_deref(), Some("outbound_keystore"));
        assert_eq!(template_key("  # cipher_suites: [").as_deref(), Some("cipher_suites"));
        assert_eq!(template_key("  #   The available options are :"), None);
        assert_eq!(template_key("  # https://docs.oracle.com/x"), None);
    }
}
