//! Captures (a value of a response kept for later steps) and checks (what a response must
//! satisfy), each parsed once at load: JSON paths by RFC 9535 (`serde_json_path`), regexes over
//! the body's bytes, headers and cookies by name.

use regex::bytes::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;

/// The response of one step as captures and checks see it.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    /// Status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: &'a [(Vec<u8>, Vec<u8>)],
    /// The body, or its first part when it was longer than plumb keeps.
    pub body: &'a [u8],
}

impl ResponseView<'_> {
    /// The first header of this (lowercase) name.
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of cookie `name` set by this response (`Set-Cookie`).
    pub fn set_cookie(&self, name: &[u8]) -> Option<&[u8]> {
        self.set_cookies()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value)
    }

    /// Every cookie this response sets, as (name, value).
    pub fn set_cookies(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.headers
            .iter()
            .filter(|(n, _)| n == b"set-cookie")
            .filter_map(|(_, v)| {
                let pair = v.split(|b| *b == b';').next()?;
                let eq = memchr::memchr(b'=', pair)?;
                Some((pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii()))
            })
    }
}

/// Where a captured value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The first node a JSON path selects in the body (a string as is, anything else as JSON).
    Json(JsonPath),
    /// A regex over the body: its first group, or the whole match when it has none.
    Regex(Regex),
    /// A response header (name lowercase).
    Header(Vec<u8>),
    /// A cookie the response sets.
    Cookie(Vec<u8>),
}

impl Source {
    /// Parse `json:$.token`, `regex:sid=(\w+)`, `header:X-CSRF` or `cookie:session`.
    pub fn parse(text: &str) -> Result<Source, String> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| {
            format!(
                "'{text}' names no source: write json:PATH, regex:RE, header:NAME or cookie:NAME"
            )
        })?;
        match kind.trim() {
            "json" => json_path(rest.trim()).map(Source::Json),
            "regex" => Regex::new(rest)
                .map(Source::Regex)
                .map_err(|e| format!("bad regex: {e}")),
            "header" if !rest.trim().is_empty() => Ok(Source::Header(
                rest.trim().to_ascii_lowercase().into_bytes(),
            )),
            "cookie" if !rest.trim().is_empty() => {
                Ok(Source::Cookie(rest.trim().as_bytes().to_vec()))
            }
            "header" | "cookie" => Err(format!("{kind}: needs a name")),
            other => Err(format!(
                "unknown capture source '{other}': use json, regex, header or cookie"
            )),
        }
    }

    /// Whether this source reads the body.
    pub fn reads_body(&self) -> bool {
        matches!(self, Source::Json(_) | Source::Regex(_))
    }

    /// The captured value, if the response has it.
    pub fn extract(&self, response: &ResponseView<'_>, json: &mut LazyJson) -> Option<Vec<u8>> {
        match self {
            Source::Json(path) => {
                let node = *path.query(json.get(response.body)?).all().first()?;
                Some(match node {
                    Value::String(s) => s.as_bytes().to_vec(),
                    other => other.to_string().into_bytes(),
                })
            }
            Source::Regex(re) => {
                let found = re.captures(response.body)?;
                let m = found.get(1).or_else(|| found.get(0))?;
                Some(m.as_bytes().to_vec())
            }
            Source::Header(name) => response.header(name).map(<[u8]>::to_vec),
            Source::Cookie(name) => response.set_cookie(name).map(<[u8]>::to_vec),
        }
    }
}

/// Parse an RFC 9535 JSON path, saying what is wrong in words.
pub fn json_path(text: &str) -> Result<JsonPath, String> {
    JsonPath::parse(text).map_err(|e| format!("bad JSON path '{text}': {e}"))
}

/// The body parsed as JSON at most once per response, however many captures and checks read it.
#[derive(Debug, Default)]
pub struct LazyJson {
    parsed: Option<Option<Value>>,
}

impl LazyJson {
    /// The body as JSON, or `None` when it is not JSON.
    pub fn get(&mut self, body: &[u8]) -> Option<&Value> {
        self.parsed
            .get_or_insert_with(|| serde_json::from_slice(body).ok())
            .as_ref()
    }
}

/// One check of a response.
#[derive(Debug, Clone)]
pub enum Check {
    /// The status is in one of these inclusive ranges.
    Status(Vec<(u16, u16)>),
    /// The body contains this text.
    BodyContains(Vec<u8>),
    /// The first node this path selects equals this value.
    JsonEquals {
        /// The path as written (for messages).
        path_text: String,
        /// The parsed path.
        path: JsonPath,
        /// The value it must equal.
        expected: Value,
    },
}

/// The kinds of check, for counting failures by class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// A status check.
    Status,
    /// A body text check.
    Body,
    /// A JSON path check.
    Json,
}

impl Check {
    /// Whether the response passes.
    pub fn passes(&self, response: &ResponseView<'_>, json: &mut LazyJson) -> bool {
        match self {
            Check::Status(ranges) => ranges
                .iter()
                .any(|(low, high)| (*low..=*high).contains(&response.status)),
            Check::BodyContains(text) => memchr::memmem::find(response.body, text).is_some(),
            Check::JsonEquals { path, expected, .. } => json
                .get(response.body)
                .and_then(|v| path.query(v).all().first().copied())
                .is_some_and(|found| values_equal(found, expected)),
        }
    }

    /// What kind of check this is.
    pub fn kind(&self) -> CheckKind {
        match self {
            Check::Status(_) => CheckKind::Status,
            Check::BodyContains(_) => CheckKind::Body,
            Check::JsonEquals { .. } => CheckKind::Json,
        }
    }

    /// A short description, for `--dry-run` and reports.
    pub fn describe(&self) -> String {
        match self {
            Check::Status(ranges) => {
                let parts: Vec<String> = ranges
                    .iter()
                    .map(|(a, b)| {
                        if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        }
                    })
                    .collect();
                format!("status in {}", parts.join(","))
            }
            Check::BodyContains(text) => {
                format!("body contains {:?}", String::from_utf8_lossy(text))
            }
            Check::JsonEquals {
                path_text,
                expected,
                ..
            } => format!("{path_text} == {expected}"),
        }
    }
}

/// Numbers compare by value (TOML's `1` equals JSON's `1.0`); everything else exactly.
fn values_equal(found: &Value, expected: &Value) -> bool {
    match (found, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => found == expected,
    }
}

/// Parse a status check value: `200`, `"200-299"`, or an array of those.
pub fn status_ranges(value: &toml::Value) -> Result<Vec<(u16, u16)>, String> {
    let one = |v: &toml::Value| -> Result<(u16, u16), String> {
        let code = |n: i64| {
            u16::try_from(n)
                .ok()
                .filter(|c| (100..=599).contains(c))
                .ok_or_else(|| format!("{n} is not a status code (100 to 599)"))
        };
        match v {
            toml::Value::Integer(n) => code(*n).map(|c| (c, c)),
            toml::Value::String(s) => {
                let (a, b) = s.split_once('-').unwrap_or((s, s));
                let parse = |t: &str| {
                    t.trim()
                        .parse::<i64>()
                        .map_err(|_| format!("'{s}' is not a status code or range like 200-299"))
                        .and_then(code)
                };
                let (a, b) = (parse(a)?, parse(b)?);
                if a > b {
                    return Err(format!("'{s}': the range runs backwards"));
                }
                Ok((a, b))
            }
            other => Err(format!(
                "a status is a number or a range like \"200-299\", not {}",
                other.type_str()
            )),
        }
    };
    match value {
        toml::Value::Array(items) if items.is_empty() => {
            Err("an empty list of statuses accepts nothing".into())
        }
        toml::Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response<'a>(headers: &'a [(Vec<u8>, Vec<u8>)], body: &'a [u8]) -> ResponseView<'a> {
        ResponseView {
            status: 200,
            headers,
            body,
        }
    }

    #[test]
    fn every_source_captures() {
        let headers = vec![
            (b"x-csrf".to_vec(), b"abc".to_vec()),
            (b"set-cookie".to_vec(), b"sid=42; Path=/; HttpOnly".to_vec()),
        ];
        let body = br#"{"token":"t-1","user":{"id":7},"items":[{"id":"a"}]}"#;
        let r = response(&headers, body);
        let get = |s: &str| {
            Source::parse(s)
                .unwrap()
                .extract(&r, &mut LazyJson::default())
        };
        assert_eq!(get("json:$.token"), Some(b"t-1".to_vec()));
        assert_eq!(get("json:$.user.id"), Some(b"7".to_vec()));
        assert_eq!(get("json:$.items[0].id"), Some(b"a".to_vec()));
        assert_eq!(get("json:$.missing"), None);
        assert_eq!(get(r#"regex:"id":(\d+)"#), Some(b"7".to_vec()));
        assert_eq!(get("header:X-CSRF"), Some(b"abc".to_vec()));
        assert_eq!(get("cookie:sid"), Some(b"42".to_vec()));
        assert!(Source::parse("json:$.[")
            .unwrap_err()
            .contains("bad JSON path"));
        assert!(Source::parse("xpath://a").unwrap_err().contains("unknown"));
    }

    #[test]
    fn checks_pass_and_fail() {
        let body = br#"{"ok":true,"n":1}"#;
        let r = response(&[], body);
        let mut json = LazyJson::default();
        let status = Check::Status(status_ranges(&toml::Value::String("200-204".into())).unwrap());
        assert!(status.passes(&r, &mut json));
        assert!(!Check::Status(vec![(201, 201)]).passes(&r, &mut json));
        assert!(Check::BodyContains(b"ok".to_vec()).passes(&r, &mut json));
        let eq = |p: &str, v: Value| Check::JsonEquals {
            path_text: p.into(),
            path: json_path(p).unwrap(),
            expected: v,
        };
        assert!(eq("$.ok", Value::Bool(true)).passes(&r, &mut json));
        assert!(eq("$.n", serde_json::json!(1.0)).passes(&r, &mut json));
        assert!(!eq("$.n", serde_json::json!(2)).passes(&r, &mut json));
        assert!(status_ranges(&toml::Value::Integer(99)).is_err());
    }
}
