//! A JSON value written as block YAML, for manifests people read and `kubectl` parses. Every
//! string is written double-quoted with JSON's escapes (valid YAML), so no value can turn into
//! another type or break the structure; keys that are plain words stay plain. The manifest is
//! built as a `serde_json::Value` (what the test validates against Kubernetes' JSON Schema),
//! and this is its one rendering: a YAML library would add a dependency for 60 lines.

use serde_json::{Map, Value};

/// `value` (an object) as YAML, after `comments` (each line prefixed with `# `).
pub fn document(comments: &[String], value: &Map<String, Value>) -> String {
    let mut out = String::new();
    for line in comments {
        out.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
    }
    map(&mut out, value, 0);
    out
}

fn map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&self::key(key));
        out.push(':');
        nested(out, value, indent);
    }
}

fn list(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        let mut inner = String::new();
        match item {
            Value::Object(m) if !m.is_empty() => map(&mut inner, m, indent + 2),
            Value::Array(a) if !a.is_empty() => list(&mut inner, a, indent + 2),
            scalar => inner = format!("{}{}\n", " ".repeat(indent + 2), self::scalar(scalar)),
        }
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        out.push_str(&inner[indent + 2..]);
    }
}

/// What follows `key:`: a scalar on the same line, or a block below it.
fn nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            list(out, a, indent);
        }
        scalar => {
            out.push(' ');
            out.push_str(&self::scalar(scalar));
            out.push('\n');
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

fn key(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "./_-".contains(c));
    if plain {
        key.to_owned()
    } else {
        Value::String(key.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_lists_and_quoted_strings() {
        let value = serde_json::json!({
            "a": {"b": 1, "c": "yes", "d": []},
            "e": [{"f": "x", "g": ["1", 2]}, "h"],
            "odd key": true,
        });
        let Value::Object(m) = value else {
            unreachable!()
        };
        assert_eq!(
            document(&["top".into(), String::new()], &m),
            "# top\n#\na:\n  b: 1\n  c: \"yes\"\n  d: []\ne:\n- f: \"x\"\n  g:\n  - \"1\"\n  - 2\n- \"h\"\n\"odd key\": true\n"
        );
    }
}
