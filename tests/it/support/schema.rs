//! A small JSON Schema checker for the keywords docs/journal-schema.json uses (`$ref` to
//! `#/$defs/NAME`, `allOf`, `if`/`then`, `not`, `anyOf`, `oneOf`, `const`, `enum`, `type`,
//! `minimum`, `minLength`, `pattern`, `items`, `required`, `properties`,
//! `additionalProperties: false`), and the schema itself.

use std::path::Path;

use serde_json::Value;

/// Checks `v` against `schema`, whose `$ref`s point into `root`; a `$ref` to a missing
/// definition is an error, not a pass.
pub fn check(schema: &Value, root: &Value, v: &Value, path: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").ok_or(format!("unsupported $ref {r}"))?;
        let def = root["$defs"].get(name).ok_or(format!("dangling $ref {r}"))?;
        return check(def, root, v, path);
    }
    for s in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        check(s, root, v, path)?;
    }
    if let (Some(cond), Some(then)) = (schema.get("if"), schema.get("then"))
        && check(cond, root, v, path).is_ok()
    {
        check(then, root, v, path)?;
    }
    if let Some(not) = schema.get("not")
        && check(not, root, v, path).is_ok()
    {
        return Err(format!("{path}: {v} matches what `not` forbids"));
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array)
        && !options.iter().any(|s| check(s, root, v, path).is_ok())
    {
        let why: Vec<String> = options.iter().filter_map(|s| check(s, root, v, path).err()).collect();
        return Err(format!("{path}: matches none of anyOf ({})", why.join("; ")));
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let ok = options.iter().filter(|s| check(s, root, v, path).is_ok()).count();
        if ok != 1 {
            let why: Vec<String> = options.iter().filter_map(|s| check(s, root, v, path).err()).collect();
            return Err(format!("{path}: matches {ok} of oneOf ({})", why.join("; ")));
        }
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        return Err(format!("{path}: {v} is not {c}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{path}: {v} not in {e:?}"));
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => return Err("bad type keyword".into()),
        };
        let is = |t: &str| match t {
            "object" => v.is_object(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "null" => v.is_null(),
            "array" => v.is_array(),
            "boolean" => v.is_boolean(),
            other => panic!("type {other} unsupported by the checker"),
        };
        if !types.iter().any(|t| is(t)) {
            return Err(format!("{path}: {v} is not of type {types:?}"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_i64), v.as_i64())
        && n < min
    {
        return Err(format!("{path}: {n} < {min}"));
    }
    if let (Some(min), Some(s)) = (schema.get("minLength").and_then(Value::as_u64), v.as_str())
        && (s.chars().count() as u64) < min
    {
        return Err(format!("{path}: `{s}` shorter than {min}"));
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str())
        && !regex::Regex::new(p).unwrap().is_match(s)
    {
        return Err(format!("{path}: `{s}` does not match {p}"));
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, item) in a.iter().enumerate() {
            check(items, root, item, &format!("{path}[{i}]"))?;
        }
    }
    if let Some(obj) = v.as_object() {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                return Err(format!("{path}: missing `{r}`"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(s, root, val, &format!("{path}.{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{path}: unknown field `{k}`"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

pub fn schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/journal-schema.json")).unwrap()).unwrap()
}

pub fn validate_line(schema: &Value, line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    check(schema, schema, &v, "$").unwrap_or_else(|e| panic!("{e}\n{line}"));
    v
}
