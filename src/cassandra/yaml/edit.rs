//! The edit itself: settings checked against the release, a plan of line changes, the new
//! bytes, and the re-parse that must confirm them before anything is returned.
//!
//! ```text
//!  bytes ─▶ split ─▶ locate block ─▶ parse (saphyr) ─▶ release ─▶ targets ─▶ plan ─▶ apply
//!                                                                                     │
//!  Edit ◀── line-level YAML 1.1 check ◀── block == old ∪ targets, rest unchanged ◀────┘
//! ```

use std::collections::{BTreeMap, HashMap};

use super::release::{KeySpec, Kind, Release, key_spec, names};
use super::scalar::{Raw, render};
use super::scan::{self, BLOCK_KEY, Block, Doc};
use super::{Edit, EditOptions, Setting, Value, YamlError, backticked, detect, verify};

/// One setting, resolved against the file's release.
struct Target<'s> {
    spec: &'static KeySpec,
    value: &'s Value,
    /// Names the release accepts, the one to write first.
    names: Vec<&'static str>,
}

/// One line-level change.
enum Change {
    /// Replace the text of a line (its line ending is kept).
    Replace(usize, String),
    /// Insert a new line after a line.
    InsertAfter(usize, String),
}

/// See `super::edit_server_encryption`.
pub(super) fn edit(path: &str, input: &[u8], settings: &[Setting], opts: &EditOptions) -> Result<Edit, YamlError> {
    let doc = scan::split(path, input)?;
    let block = scan::locate(path, &doc)?;
    let old = verify::parse(path, doc.text)?;
    if block.is_none() && old.block.is_some() {
        return Err(YamlError::UnsupportedValue {
            path: path.to_owned(),
            line: 1,
            node: BLOCK_KEY.to_owned(),
            reason: "written as a complex or oddly spaced key the editor cannot locate".to_owned(),
        });
    }
    let release = opts.release.or_else(|| detect(&doc)).ok_or_else(|| YamlError::ReleaseUndetected { path: path.to_owned() })?;
    let key_line = block.as_ref().map_or(1, |b| b.key_line + 1);
    let targets = resolve(path, key_line, settings, release)?;
    let mut expected = verify::block_values(path, key_line, old.block.as_ref())?;
    if targets.is_empty() {
        return Ok(Edit { bytes: input.to_vec(), changed: false, release });
    }

    let bytes = match &block {
        Some(block) => {
            let (changes, written) = plan(path, &doc, block, &targets, release)?;
            for (name, t) in written.iter().zip(&targets) {
                expected.insert((*name).to_owned(), t.value.to_json());
            }
            apply(&doc, &changes)
        }
        None => {
            for t in &targets {
                expected.insert(t.names[0].to_owned(), t.value.to_json());
            }
            append(&doc, &targets, scan::file_indent(&doc).unwrap_or(release.stock_indent()))
        }
    };
    check(path, key_line, &old, &bytes, &targets, &expected)?;
    Ok(Edit { changed: bytes != input, bytes, release })
}

/// Checks the settings against the key table and the release.
fn resolve<'s>(path: &str, line: usize, settings: &'s [Setting], release: Release) -> Result<Vec<Target<'s>>, YamlError> {
    // The 3.11 refusal comes first: it is the one that explains what to do instead.
    if release == Release::V3_11 && settings.iter().any(|s| s.key == "optional") {
        return Err(YamlError::OptionalOn311 { path: path.to_owned(), line });
    }
    let mut targets: Vec<Target<'s>> = Vec::with_capacity(settings.len());
    for s in settings {
        let spec = key_spec(&s.key).ok_or_else(|| YamlError::UnknownSetting { path: path.to_owned(), key: s.key.clone() })?;
        if targets.iter().any(|t| t.spec.canonical == spec.canonical) {
            return Err(YamlError::DuplicateSetting { path: path.to_owned(), key: s.key.clone() });
        }
        let expected = match (spec.kind, &s.value) {
            (Kind::Bool, Value::Bool(_)) | (Kind::Str, Value::Str(_)) => None,
            (Kind::OneOf(allowed), Value::Str(v)) if allowed.contains(&v.as_str()) => None,
            (Kind::Bool, _) => Some("a boolean".to_owned()),
            (Kind::Str, _) => Some("a string".to_owned()),
            (Kind::OneOf(allowed), _) => Some(format!("one of {}", backticked(allowed.iter()))),
        };
        if let Some(expected) = expected {
            return Err(YamlError::InvalidSettingValue { path: path.to_owned(), key: s.key.clone(), expected });
        }
        if release < spec.since {
            return Err(YamlError::KeyUnknownToRelease { path: path.to_owned(), line, key: s.key.clone(), release });
        }
        targets.push(Target { spec, value: &s.value, names: names(spec.canonical, release) });
    }
    Ok(targets)
}

/// Plans the line changes; also returns, per target, the key name that ends up holding it.
fn plan(
    path: &str,
    doc: &Doc<'_>,
    block: &Block,
    targets: &[Target<'_>],
    release: Release,
) -> Result<(Vec<Change>, Vec<&'static str>), YamlError> {
    let indent = block.indent.or_else(|| scan::file_indent(doc)).unwrap_or(release.stock_indent());
    let mut changes = Vec::new();
    let mut written = Vec::new();
    for t in targets {
        // A live name of this key that the release does not accept (the 4.1 name of the legacy
        // port flag in a file said to be 4.0) means the release is wrong or the file is broken.
        let foreign = block.children.iter().find(|c| {
            !t.names.contains(&c.key.as_str())
                && [Release::V3_11, Release::V4_0, Release::V4_1Plus].iter().any(|r| names(t.spec.canonical, *r).contains(&c.key.as_str()))
        });
        if let Some(c) = foreign {
            return Err(YamlError::ReleaseMismatch { path: path.to_owned(), line: c.line + 1, key: c.key.clone(), release });
        }
        let rendered = render(t.value, t.spec.quote);
        let live: Vec<_> = block.children.iter().filter(|c| t.names.contains(&c.key.as_str())).collect();
        if let [first, second, ..] = live.as_slice() {
            return Err(YamlError::DuplicateKey {
                path: path.to_owned(),
                key: second.key.clone(),
                first: first.line + 1,
                second: second.line + 1,
            });
        }
        if let Some(child) = live.first() {
            let unsupported = |reason: &str| YamlError::UnsupportedValue {
                path: path.to_owned(),
                line: child.line + 1,
                node: format!("{BLOCK_KEY}.{}", child.key),
                reason: reason.to_owned(),
            };
            let (start, end, raw) = child.value.as_ref().map_err(|r| unsupported(r))?;
            let continues = doc.lines[child.line + 1..block.region_end]
                .iter()
                .find(|l| l.is_content())
                .is_some_and(|l| block.indent.is_some_and(|b| l.indent() > b));
            if continues {
                return Err(unsupported("a value that continues on the following lines"));
            }
            written.push(names_entry(t, &child.key));
            if !raw.reads_as(t.value) {
                let text = doc.lines[child.line].text;
                let new_text = if *raw == Raw::Empty {
                    let rest = &text[child.colon_end..];
                    let comment = if rest.trim().is_empty() { "" } else { rest };
                    format!("{} {rendered}{comment}", &text[..child.colon_end])
                } else {
                    format!("{}{rendered}{}", &text[..*start], &text[*end..])
                };
                changes.push(Change::Replace(child.line, new_text));
            }
        } else {
            // Right below the first usable template of the preferred name, else of an alias,
            // else at the end of the block. Templates in the comment tail after the block's last
            // indented line belong to the next section and are not used.
            let anchor = t
                .names
                .iter()
                .find_map(|n| block.templates.iter().find(|tp| tp.usable && tp.key == *n && tp.line <= block.last_line))
                .map_or(block.last_line, |tp| tp.line);
            written.push(t.names[0]);
            changes.push(Change::InsertAfter(anchor, format!("{}{}: {rendered}", " ".repeat(indent), t.names[0])));
        }
    }
    Ok((changes, written))
}

/// Returns the static name of a live key that matched one of the target's names.
fn names_entry(t: &Target<'_>, key: &str) -> &'static str {
    t.names.iter().copied().find(|n| *n == key).unwrap_or(t.names[0])
}

/// Returns the file with the changes applied, BOM and line endings kept.
fn apply(doc: &Doc<'_>, changes: &[Change]) -> Vec<u8> {
    let mut replace: HashMap<usize, &str> = HashMap::new();
    let mut insert: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for c in changes {
        match c {
            Change::Replace(i, text) => {
                replace.insert(*i, text);
            }
            Change::InsertAfter(i, text) => insert.entry(*i).or_default().push(text),
        }
    }
    let mut out = String::with_capacity(doc.text.len() + 256);
    if doc.bom {
        out.push('\u{feff}');
    }
    for (i, line) in doc.lines.iter().enumerate() {
        out.push_str(replace.get(&i).copied().unwrap_or(line.text));
        let Some(new_lines) = insert.get(&i) else {
            out.push_str(line.eol);
            continue;
        };
        if line.eol.is_empty() {
            // The last line had no final newline: the inserted lines end the file without one.
            for l in new_lines {
                out.push_str(doc.eol);
                out.push_str(l);
            }
        } else {
            out.push_str(line.eol);
            for l in new_lines {
                out.push_str(l);
                out.push_str(line.eol);
            }
        }
    }
    out.into_bytes()
}

/// Returns the file with a new block appended (after a blank line), final-newline state kept.
fn append(doc: &Doc<'_>, targets: &[Target<'_>], indent: usize) -> Vec<u8> {
    let mut block = vec![format!("{BLOCK_KEY}:")];
    block.extend(targets.iter().map(|t| format!("{}{}: {}", " ".repeat(indent), t.names[0], render(t.value, t.spec.quote))));
    let mut out = String::with_capacity(doc.text.len() + 512);
    if doc.bom {
        out.push('\u{feff}');
    }
    out.push_str(doc.text);
    let last = doc.lines.last();
    let final_newline = last.is_none_or(|l| !l.eol.is_empty());
    if !final_newline {
        out.push_str(doc.eol);
    }
    if last.is_some_and(|l| !l.is_blank()) {
        out.push_str(doc.eol);
    }
    out.push_str(&block.join(doc.eol));
    if final_newline {
        out.push_str(doc.eol);
    }
    out.into_bytes()
}

/// Re-parses the new bytes: rest of the document unchanged, block == `expected`, and every
/// target line reads as its target under YAML 1.1 as well.
fn check(
    path: &str,
    line: usize,
    old: &verify::Parsed<'_>,
    bytes: &[u8],
    targets: &[Target<'_>],
    expected: &BTreeMap<String, serde_json::Value>,
) -> Result<(), YamlError> {
    let fail = |detail: String| YamlError::VerifyFailed { path: path.to_owned(), line, detail };
    let new_doc = scan::split(path, bytes).map_err(|e| fail(format!("re-splitting failed: {e}")))?;
    let new_block = scan::locate(path, &new_doc)
        .map_err(|e| fail(format!("re-scanning failed: {e}")))?
        .ok_or_else(|| fail(format!("`{BLOCK_KEY}` not found after the edit")))?;
    let new = verify::parse(path, new_doc.text).map_err(|e| fail(format!("re-parsing failed: {e}")))?;
    verify::check_edit(path, line, old, &new, expected)?;
    for t in targets {
        let holds = new_block
            .children
            .iter()
            .find(|c| t.names.contains(&c.key.as_str()))
            .and_then(|c| c.value.as_ref().ok())
            .is_some_and(|(_, _, raw)| raw.reads_as(t.value));
        if !holds {
            return Err(fail(format!("`{}` does not read as intended under YAML 1.1", t.spec.canonical)));
        }
    }
    Ok(())
}
