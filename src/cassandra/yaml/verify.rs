//! The full YAML parse behind the line editor: validity of the input, the current values of the
//! block, and the after-edit check that the new text means exactly what was intended.
//!
//! saphyr loads with `early_parse(false)`, so scalars stay as written (text, quoting style,
//! tag). That gives an exact comparison of the rest of the document (same representation, not
//! merely equal values), and lets block values be resolved with SnakeYAML's YAML 1.1 rules
//! (`scalar::resolve_plain`) instead of saphyr's YAML 1.2 ones. Duplicate keys are allowed
//! here because the scanner reports them with better messages.

use std::collections::{BTreeMap, BTreeSet};

use saphyr::{Scalar, ScalarStyle, Yaml, YamlLoader};
use saphyr_parser::Parser;

use super::scalar::resolve_plain;
use super::scan::BLOCK_KEY;
use super::{YamlError, backticked};

/// A parsed cassandra.yaml, split into the block and everything else.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    /// The other top-level entries, in file order, as written.
    pub rest: Vec<(Yaml<'a>, Yaml<'a>)>,
    /// The value of `server_encryption_options`, if the key exists.
    pub block: Option<Yaml<'a>>,
}

/// Parses `text` (BOM already removed) as one YAML document holding a mapping (or nothing).
pub(crate) fn parse<'a>(path: &str, text: &'a str) -> Result<Parsed<'a>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut loader: YamlLoader<'a, Yaml<'a>> = YamlLoader::default();
    loader.early_parse(false);
    loader.allow_duplicate_keys(true);
    let outcome = parser.load(&mut loader, true);
    if let Some(e) = outcome.err().or_else(|| loader.error().cloned()) {
        return Err(YamlError::InvalidYaml { path: path.to_owned(), line: e.marker().line().max(1), reason: e.info().to_owned() });
    }
    let mut docs = loader.into_documents().into_iter();
    let doc = docs.next();
    if docs.next().is_some() {
        let line = text.lines().enumerate().filter(|(_, l)| l.starts_with("---")).map(|(i, _)| i + 1).last();
        return Err(YamlError::MultipleDocuments { path: path.to_owned(), line: line.unwrap_or(1) });
    }
    let mut parsed = Parsed { rest: Vec::new(), block: None };
    match doc {
        None => {}
        Some(Yaml::Mapping(map)) => {
            for (k, v) in map {
                if key_text(&k) == Some(BLOCK_KEY) {
                    parsed.block = Some(v);
                } else {
                    parsed.rest.push((k, v));
                }
            }
        }
        Some(node) if to_json(&node) == Ok(serde_json::Value::Null) => {}
        Some(_) => {
            return Err(YamlError::NotAMapping { path: path.to_owned(), line: 1, what: "the document".to_owned() });
        }
    }
    Ok(parsed)
}

/// Returns the text of a string-like scalar key.
fn key_text<'n>(node: &'n Yaml<'_>) -> Option<&'n str> {
    match node {
        Yaml::Representation(s, _, None) => Some(s),
        Yaml::Value(Scalar::String(s)) => Some(s),
        _ => None,
    }
}

/// Returns a node as JSON, resolving plain scalars as SnakeYAML (YAML 1.1) does.
pub(crate) fn to_json(node: &Yaml<'_>) -> Result<serde_json::Value, &'static str> {
    Ok(match node {
        Yaml::Representation(s, style, tag) => match (style, tag) {
            (_, Some(t)) if t.suffix == "str" => serde_json::Value::String(s.to_string()),
            (ScalarStyle::Plain, _) => resolve_plain(s).to_json(),
            (_, None) => serde_json::Value::String(s.to_string()),
            _ => return Err("a tagged scalar"),
        },
        Yaml::Value(Scalar::Null) => serde_json::Value::Null,
        Yaml::Value(Scalar::Boolean(b)) => serde_json::Value::Bool(*b),
        Yaml::Value(Scalar::Integer(i)) => serde_json::Value::from(*i),
        Yaml::Value(Scalar::FloatingPoint(f)) => serde_json::Value::from(f.into_inner()),
        Yaml::Value(Scalar::String(s)) => serde_json::Value::String(s.to_string()),
        Yaml::Sequence(items) => serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(map) => {
            serde_json::Value::Object(map.iter().map(|(k, v)| Ok((key_string(k)?, to_json(v)?))).collect::<Result<_, &'static str>>()?)
        }
        Yaml::Tagged(_, inner) => to_json(inner)?,
        Yaml::Alias(_) | Yaml::BadValue => return Err("an unresolved alias"),
    })
}

/// Returns a mapping key as the string a Java bean property would be named by.
fn key_string(node: &Yaml<'_>) -> Result<String, &'static str> {
    match to_json(node)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Bool(_) | serde_json::Value::Number(_) | serde_json::Value::Null => Ok(match node {
            Yaml::Representation(s, _, _) => s.to_string(),
            _ => return Err("a non-string key"),
        }),
        _ => Err("a complex key"),
    }
}

/// Returns the live values of the block (empty when the block is absent or null).
pub(crate) fn block_values(path: &str, line: usize, block: Option<&Yaml<'_>>) -> Result<BTreeMap<String, serde_json::Value>, YamlError> {
    let unsupported = |reason: &str| YamlError::UnsupportedValue {
        path: path.to_owned(),
        line,
        node: BLOCK_KEY.to_owned(),
        reason: format!("holding {reason}"),
    };
    match block.map(to_json).transpose().map_err(unsupported)? {
        None | Some(serde_json::Value::Null) => Ok(BTreeMap::new()),
        Some(serde_json::Value::Object(map)) => Ok(map.into_iter().collect()),
        Some(_) => Err(YamlError::NotAMapping { path: path.to_owned(), line, what: format!("`{BLOCK_KEY}`") }),
    }
}

/// Checks that `new` differs from `old` only in the block, and that the new block equals
/// `expected`. Errors name keys, never values.
pub(crate) fn check_edit(
    path: &str,
    line: usize,
    old: &Parsed<'_>,
    new: &Parsed<'_>,
    expected: &BTreeMap<String, serde_json::Value>,
) -> Result<(), YamlError> {
    let fail = |detail: String| YamlError::VerifyFailed { path: path.to_owned(), line, detail };
    if old.rest != new.rest {
        let first = old.rest.iter().zip(&new.rest).position(|(a, b)| a != b).unwrap_or(old.rest.len().min(new.rest.len()));
        let key = old.rest.get(first).and_then(|(k, _)| key_text(k)).unwrap_or("?");
        return Err(fail(format!("the document outside `{BLOCK_KEY}` changed, at top-level key `{key}`")));
    }
    let got = block_values(path, line, new.block.as_ref())?;
    let differing: BTreeSet<&str> =
        expected.keys().chain(got.keys()).filter(|k| expected.get(*k) != got.get(*k)).map(String::as_str).collect();
    if differing.is_empty() { Ok(()) } else { Err(fail(format!("`{BLOCK_KEY}` keys not as intended: {}", backticked(differing.iter())))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_values_follow_yaml_1_1_not_1_2() {
        let text = "a: 1\nserver_encryption_options:\n  optional: yes\n  quoted: 'yes'\n  port: 010\n  nested:\n    k: off\n";
        let parsed = parse("t", text).expect("parse");
        let values = block_values("t", 2, parsed.block.as_ref()).expect("values");
        assert_eq!(values["optional"], serde_json::json!(true));
        assert_eq!(values["quoted"], serde_json::json!("yes"));
        assert_eq!(values["port"], serde_json::json!(8));
        assert_eq!(values["nested"], serde_json::json!({"k": false}));
        assert_eq!(parsed.rest.len(), 1);
    }

    #[test]
    fn parse_reports_the_line_of_a_syntax_error_and_extra_documents() {
        let err = parse("f.yaml", "a: 1\nb: [1,\nc: 2\n").expect_err("invalid");
        assert!(matches!(err, YamlError::InvalidYaml { line, .. } if line >= 2), "{err}");
        let err = parse("f.yaml", "a: 1\n---\nb: 2\n").expect_err("two docs");
        assert!(matches!(err, YamlError::MultipleDocuments { line: 2, .. }), "{err}");
        let err = parse("f.yaml", "- a\n").expect_err("sequence");
        assert!(matches!(err, YamlError::NotAMapping { .. }), "{err}");
        assert!(parse("f.yaml", "# only comments\n").expect("empty").block.is_none());
    }

    #[test]
    fn check_edit_names_the_differing_key_only() {
        let old = parse("t", "a: 1\nserver_encryption_options:\n  k: \"s3cret\"\n").expect("old");
        let new = parse("t", "a: 2\nserver_encryption_options:\n  k: \"other\"\n").expect("new");
        let expected = BTreeMap::from([("k".to_owned(), serde_json::json!("s3cret"))]);
        let err = check_edit("t", 2, &old, &new, &expected).expect_err("rest changed").to_string();
        assert!(err.contains("`a`") && !err.contains("s3cret"), "{err}");
        let same = parse("t", "a: 1\nserver_encryption_options:\n  k: \"other\"\n").expect("same");
        let err = check_edit("t", 2, &old, &same, &expected).expect_err("block differs").to_string();
        assert!(err.contains("`k`") && !err.contains("other") && !err.contains("s3cret"), "{err}");
    }
}
