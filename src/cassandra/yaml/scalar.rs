//! Scalars as Cassandra's SnakeYAML (YAML 1.1) reads them, and how the editor writes them.
//!
//! saphyr is a YAML 1.2 parser: to it `yes` and `on` are strings, to SnakeYAML they are booleans.
//! So the editor never trusts YAML 1.2 resolution for a plain scalar: it resolves plain text with
//! SnakeYAML's own `Resolver` patterns (copied below), and it writes strings either quoted or in a
//! shape that both YAML versions read as the same string.

use std::sync::LazyLock;

use regex::Regex;

use super::Value;

/// What a scalar means to SnakeYAML.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Meaning {
    /// `~`, `null`, empty.
    Null,
    /// `true`, `yes`, `on`, ... (YAML 1.1).
    Bool(bool),
    /// A decimal, octal, hex, binary or sexagesimal integer that fits in `i64`.
    Int(i64),
    /// A float.
    Float(f64),
    /// Anything else, or any quoted scalar.
    Str(String),
}

impl Meaning {
    /// Returns the JSON form (what `read_server_encryption` reports).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Meaning::Null => serde_json::Value::Null,
            Meaning::Bool(b) => serde_json::Value::Bool(*b),
            Meaning::Int(i) => serde_json::Value::from(*i),
            Meaning::Float(f) => {
                serde_json::Number::from_f64(*f).map_or_else(|| serde_json::Value::String(f.to_string()), serde_json::Value::Number)
            }
            Meaning::Str(s) => serde_json::Value::String(s.clone()),
        }
    }
}

// SnakeYAML `org.yaml.snakeyaml.resolver.Resolver` patterns (YAML 1.1 implicit types).
static BOOL_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$").expect("static regex")
});
static INT_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?0b_*[0-1]+[0-1_]*|[-+]?0_*[0-7]+[0-7_]*|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x_*[0-9a-fA-F]+[0-9a-fA-F_]*|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .expect("static regex")
});
static FLOAT_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9_]+(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
    .expect("static regex")
});
static NULL_11: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:~|null|Null|NULL| |)$").expect("static regex"));
static TIMESTAMP_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$",
    )
    .expect("static regex")
});
/// A conservative "reads as this same string everywhere" shape for plain strings we write.
static SAFE_PLAIN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9_.-]*$").expect("static regex"));
/// YAML 1.2 core-schema non-strings not already covered by the 1.1 patterns.
static CORE_12_EXTRA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$").expect("static regex"));

/// Returns what SnakeYAML makes of an untagged plain scalar.
pub(crate) fn resolve_plain(text: &str) -> Meaning {
    if NULL_11.is_match(text) {
        return Meaning::Null;
    }
    if BOOL_11.is_match(text) {
        return Meaning::Bool(matches!(text.as_bytes()[0], b'y' | b'Y' | b't' | b'T') || text.eq_ignore_ascii_case("on"));
    }
    if INT_11.is_match(text) {
        return parse_int_11(text).map_or_else(|| Meaning::Str(text.to_owned()), Meaning::Int);
    }
    if FLOAT_11.is_match(text) && text.starts_with(|c: char| "-+0123456789.".contains(c)) {
        let cleaned = text.replace('_', "").to_ascii_lowercase();
        let f = match cleaned.trim_start_matches(['+', '-']) {
            ".inf" => f64::INFINITY,
            ".nan" => f64::NAN,
            _ if cleaned.contains(':') => return Meaning::Str(text.to_owned()),
            _ => match cleaned.parse::<f64>() {
                Ok(f) => f,
                Err(_) => return Meaning::Str(text.to_owned()),
            },
        };
        return Meaning::Float(if cleaned.starts_with('-') { -f.abs() } else { f });
    }
    Meaning::Str(text.to_owned())
}

/// Parses a YAML 1.1 integer literal (already matched by `INT_11`); `None` on overflow.
fn parse_int_11(text: &str) -> Option<i64> {
    let cleaned = text.replace('_', "");
    let (negative, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let magnitude = if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if digits.contains(':') {
        digits.split(':').try_fold(0i64, |acc, part| acc.checked_mul(60)?.checked_add(part.parse::<i64>().ok()?))?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Returns true when `text`, written plain, is read as the string `text` by both SnakeYAML and
/// a YAML 1.2 parser.
pub(crate) fn plain_is_same_string(text: &str) -> bool {
    matches!(resolve_plain(text), Meaning::Str(_))
        && !TIMESTAMP_11.is_match(text)
        && !CORE_12_EXTRA.is_match(text)
        && text != "<<"
        && text != "="
        && !matches!(text, "y" | "Y" | "n" | "N")
}

/// Returns the text to write for `value`; `quote` forces a double-quoted string.
pub(crate) fn render(value: &Value, quote: bool) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) if !quote && SAFE_PLAIN.is_match(s) && plain_is_same_string(s) => s.clone(),
        Value::Str(s) => double_quote(s),
    }
}

/// Returns `s` as a YAML double-quoted scalar, using only escapes valid in YAML 1.1 and 1.2.
pub(crate) fn double_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Control characters, DEL, C1 controls, NEL, the Unicode line/paragraph separators
            // (line breaks in YAML 1.1) and the BOM are not printable in a YAML stream.
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar as written on a `key: value` line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    /// Nothing after the colon (null).
    Empty,
    /// A plain scalar, trimmed.
    Plain(String),
    /// A quoted scalar, unescaped.
    Quoted(String),
}

impl Raw {
    /// Returns true when this scalar already reads as `target`, in YAML 1.1 and 1.2 alike.
    pub(crate) fn reads_as(&self, target: &Value) -> bool {
        match (self, target) {
            (Raw::Plain(p), Value::Bool(b)) => {
                matches!(p.as_str(), "true" | "True" | "TRUE") && *b || matches!(p.as_str(), "false" | "False" | "FALSE") && !*b
            }
            (Raw::Plain(p), Value::Int(i)) => *p == i.to_string(),
            (Raw::Plain(p), Value::Str(s)) => p == s && plain_is_same_string(p),
            (Raw::Quoted(q), Value::Str(s)) => q == s,
            _ => false,
        }
    }
}

/// Scans the value that starts at the beginning of `rest` (leading blanks already skipped).
///
/// Returns the byte length of the scalar token and its content, or a description of a value
/// form the editor does not rewrite. What follows the token must be blanks or a comment.
pub(crate) fn scan_value(rest: &str) -> Result<(usize, Raw), &'static str> {
    let (len, raw) = match rest.as_bytes().first() {
        None | Some(b'#') => return Ok((0, Raw::Empty)),
        Some(b'"') => scan_double(rest)?,
        Some(b'\'') => scan_single(rest)?,
        Some(b'|' | b'>') => return Err("a block scalar (`|` or `>`)"),
        Some(b'[' | b'{') => return Err("a flow collection"),
        Some(b'&') => return Err("anchored (`&`)"),
        Some(b'*') => return Err("an alias (`*`)"),
        Some(b'!') => return Err("tagged (`!`)"),
        Some(b'%' | b'@' | b'`') => return Err("a scalar starting with a reserved indicator"),
        Some(b'-' | b'?' | b':') if rest.len() == 1 || rest.as_bytes()[1] == b' ' => {
            return Err("a nested collection");
        }
        Some(_) => {
            let end = plain_end(rest);
            (end, Raw::Plain(rest[..end].to_owned()))
        }
    };
    let tail = rest[len..].trim_start_matches([' ', '\t']);
    if tail.is_empty() || (tail.starts_with('#') && tail.len() < rest[len..].len()) {
        Ok((len, raw))
    } else {
        Err("followed by text after its closing quote")
    }
}

/// Returns the byte length of a plain scalar: up to a ` #` comment, trailing blanks excluded.
fn plain_end(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut end = bytes.len();
    for i in 1..bytes.len() {
        if bytes[i] == b'#' && matches!(bytes[i - 1], b' ' | b'\t') {
            end = i;
            break;
        }
    }
    rest[..end].trim_end_matches([' ', '\t']).len()
}

/// Scans a single-quoted scalar (`''` is a quote).
fn scan_single(rest: &str) -> Result<(usize, Raw), &'static str> {
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if matches!(chars.peek(), Some((_, '\''))) {
                chars.next();
                out.push('\'');
            } else {
                return Ok((i + 1, Raw::Quoted(out)));
            }
        } else {
            out.push(c);
        }
    }
    Err("a quoted scalar that continues on the next line")
}

/// Scans a double-quoted scalar, decoding its escapes.
fn scan_double(rest: &str) -> Result<(usize, Raw), &'static str> {
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((i + 1, Raw::Quoted(out))),
            '\\' => {
                let (_, e) = chars.next().ok_or("a quoted scalar that continues on the next line")?;
                let simple = match e {
                    '0' => Some('\0'),
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    't' | '\t' => Some('\t'),
                    'n' => Some('\n'),
                    'v' => Some('\u{b}'),
                    'f' => Some('\u{c}'),
                    'r' => Some('\r'),
                    'e' => Some('\u{1b}'),
                    ' ' => Some(' '),
                    '"' => Some('"'),
                    '/' => Some('/'),
                    '\\' => Some('\\'),
                    'N' => Some('\u{85}'),
                    '_' => Some('\u{a0}'),
                    'L' => Some('\u{2028}'),
                    'P' => Some('\u{2029}'),
                    _ => None,
                };
                if let Some(ch) = simple {
                    out.push(ch);
                    continue;
                }
                let width = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => return Err("a quoted scalar with an invalid escape"),
                };
                let hex: String = (0..width).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                let ch = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == width)
                    .and_then(char::from_u32)
                    .ok_or("a quoted scalar with an invalid escape")?;
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    Err("a quoted scalar that continues on the next line")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snakeyaml_reads_yaml11_booleans_that_yaml12_calls_strings() {
        for (text, b) in [("yes", true), ("On", true), ("TRUE", true), ("no", false), ("OFF", false), ("False", false)] {
            assert_eq!(resolve_plain(text), Meaning::Bool(b), "{text}");
        }
        assert_eq!(resolve_plain("y"), Meaning::Str("y".into()), "SnakeYAML leaves out y/n");
    }

    #[test]
    fn integers_nulls_and_floats_resolve_like_snakeyaml() {
        assert_eq!(resolve_plain("7001"), Meaning::Int(7001));
        assert_eq!(resolve_plain("010"), Meaning::Int(8));
        assert_eq!(resolve_plain("0x1F"), Meaning::Int(31));
        assert_eq!(resolve_plain("1:30"), Meaning::Int(90));
        assert_eq!(resolve_plain("~"), Meaning::Null);
        assert_eq!(resolve_plain(""), Meaning::Null);
        assert_eq!(resolve_plain("1.5"), Meaning::Float(1.5));
        assert_eq!(resolve_plain("conf/.keystore"), Meaning::Str("conf/.keystore".into()));
    }

    #[test]
    fn render_quotes_everything_ambiguous_and_forced() {
        let s = |v: &str| Value::Str(v.into());
        assert_eq!(render(&s("all"), false), "all");
        assert_eq!(render(&s("PKCS12"), false), "PKCS12");
        assert_eq!(render(&s("all"), true), "\"all\"");
        for ambiguous in ["yes", "off", "null", "0755", "1e3", "y", "", "a b", "/etc/ks.p12", "x: y", "#x"] {
            assert!(render(&s(ambiguous), false).starts_with('"'), "{ambiguous}");
        }
        assert_eq!(render(&Value::Bool(true), true), "true");
        assert_eq!(render(&Value::Int(-3), true), "-3");
    }

    #[test]
    fn double_quote_round_trips_through_scan_double() {
        for s in ["pa\"ss\\w0rd", "tab\there", "nl\nx", "ünï €", "\u{1}\u{7f}\u{85}\u{2028}\u{feff}", "#: '"] {
            let quoted = double_quote(s);
            assert_eq!(scan_value(&quoted), Ok((quoted.len(), Raw::Quoted(s.to_owned()))), "{s:?}");
        }
    }

    #[test]
    fn scan_value_splits_off_comments_and_refuses_what_it_cannot_rewrite() {
        assert_eq!(scan_value("none # c"), Ok((4, Raw::Plain("none".into()))));
        assert_eq!(scan_value("a#b  "), Ok((3, Raw::Plain("a#b".into()))));
        assert_eq!(scan_value("'it''s' # c"), Ok((7, Raw::Quoted("it's".into()))));
        assert_eq!(scan_value("\"a # b\""), Ok((7, Raw::Quoted("a # b".into()))));
        assert_eq!(scan_value("# only a comment"), Ok((0, Raw::Empty)));
        assert!(scan_value("|").is_err());
        assert!(scan_value("{a: 1}").is_err());
        assert!(scan_value("&x v").is_err());
        assert!(scan_value("\"open").is_err());
        assert!(scan_value("'x' y").is_err());
    }

    #[test]
    fn reads_as_accepts_only_forms_both_yaml_versions_agree_on() {
        assert!(Raw::Plain("true".into()).reads_as(&Value::Bool(true)));
        assert!(!Raw::Plain("yes".into()).reads_as(&Value::Bool(true)));
        assert!(!Raw::Quoted("true".into()).reads_as(&Value::Bool(true)));
        assert!(Raw::Plain("/etc/ks.p12".into()).reads_as(&Value::Str("/etc/ks.p12".into())));
        assert!(!Raw::Plain("123".into()).reads_as(&Value::Str("123".into())));
        assert!(Raw::Quoted("123".into()).reads_as(&Value::Str("123".into())));
        assert!(Raw::Plain("7000".into()).reads_as(&Value::Int(7000)));
        assert!(!Raw::Plain("07000".into()).reads_as(&Value::Int(7000)));
    }
}
