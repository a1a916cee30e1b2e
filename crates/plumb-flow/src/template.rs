//! `{{variable}}` templates, split once at load into literal bytes and variable references, so
//! filling one per request is a few copies and no parsing.
//!
//! A variable is a flow variable or a capture (`{{token}}`), a data column (`{{users.email}}`),
//! or a built-in (`{{$session}}`, the session's number). Where it lands decides how its value is
//! escaped: inside a JSON string it is JSON-escaped, in a form it is URL-encoded, in a URL the
//! bytes that cannot appear there raw are percent-encoded, and in a header line breaks become
//! spaces, so no value can split a request.

use std::fmt;

/// A parsed template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(Box<[u8]>),
    Var(VarRef),
}

/// What a `{{...}}` names, before and after compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarRef {
    /// A flow variable or capture, by its slot in the session.
    Slot(u16),
    /// A column of a data file: `data` is the data set's index, `column` the column's.
    Column {
        /// Index of the data set in the plan.
        data: u16,
        /// Index of the column in the row.
        column: u16,
    },
    /// The session's number (`{{$session}}`).
    Session,
}

/// How a variable's value is escaped where it is inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As is (a raw body).
    Raw,
    /// Inside a JSON string.
    Json,
    /// A form field (`application/x-www-form-urlencoded`).
    Form,
    /// In the request target: bytes outside visible ASCII are percent-encoded.
    Url,
    /// In a header value: CR, LF and NUL become spaces.
    Header,
}

/// A `{{` without its `}}`, or an empty `{{}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSyntaxError {
    /// Byte offset of the bad `{{` in the template text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// A variable name as written in a template, with its byte offset in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The name, trimmed.
    pub text: String,
    /// Byte offset of the `{{` in the template text.
    pub offset: usize,
}

/// The values a template is filled from.
pub trait Values {
    /// The value of a variable, if set.
    fn value(&self, var: &VarRef) -> Option<&[u8]>;
    /// The session number, for `{{$session}}`.
    fn session(&self) -> u64;
}

impl Template {
    /// Split `text` into literals and names; `resolve` turns each name into a reference (or an
    /// error, which is returned with the name's offset).
    pub fn parse<E>(
        text: &str,
        mut resolve: impl FnMut(&Name) -> Result<VarRef, E>,
    ) -> Result<Template, TemplateError<E>> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest.as_bytes()[..open].into()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError::Syntax(TemplateSyntaxError {
                    offset: offset + open,
                    message: "`{{` without its closing `}}`".into(),
                }));
            };
            let name = after[..close].trim();
            if let Some(message) = bad_name(name) {
                return Err(TemplateError::Syntax(TemplateSyntaxError {
                    offset: offset + open,
                    message,
                }));
            }
            let name = Name {
                text: name.to_string(),
                offset: offset + open,
            };
            parts.push(Part::Var(
                resolve(&name).map_err(|e| TemplateError::Resolve(name, e))?,
            ));
            let used = open + 2 + close + 2;
            offset += used;
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.as_bytes().into()));
        }
        Ok(Template { parts })
    }

    /// A template of one literal text.
    pub fn literal(text: &[u8]) -> Template {
        Template {
            parts: if text.is_empty() {
                Vec::new()
            } else {
                vec![Part::Literal(text.into())]
            },
        }
    }

    /// This template followed by `other`.
    pub fn then(mut self, other: Template) -> Template {
        self.parts.extend(other.parts);
        self
    }

    /// Whether the template has no variables.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The literal text before the first variable.
    pub fn literal_prefix(&self) -> &[u8] {
        match self.parts.first() {
            Some(Part::Literal(text)) => text,
            _ => &[],
        }
    }

    /// Replace the literal prefix (when joining a relative URL to the base).
    pub fn with_prefix(mut self, prefix: &[u8], strip: usize) -> Template {
        match self.parts.first_mut() {
            Some(Part::Literal(text)) => {
                let mut joined = prefix.to_vec();
                joined.extend_from_slice(&text[strip.min(text.len())..]);
                *text = joined.into();
            }
            _ => self.parts.insert(0, Part::Literal(prefix.into())),
        }
        self
    }

    /// Every variable reference, for checks after parsing.
    pub fn vars_mut(&mut self) -> impl Iterator<Item = &mut VarRef> {
        self.parts.iter_mut().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Literal(_) => None,
        })
    }

    /// Append the filled template to `out`. A variable without a value is an error naming it.
    pub fn render(
        &self,
        values: &dyn Values,
        escape: Escape,
        out: &mut Vec<u8>,
    ) -> Result<(), VarRef> {
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.extend_from_slice(text),
                Part::Var(VarRef::Session) => {
                    // Writing into a Vec cannot fail.
                    let _ = std::io::Write::write_fmt(out, format_args!("{}", values.session()));
                }
                Part::Var(var) => {
                    let value = values.value(var).ok_or_else(|| var.clone())?;
                    escape_into(value, escape, out);
                }
            }
        }
        Ok(())
    }
}

/// A template could not be parsed, or one of its names could not be resolved.
#[derive(Debug)]
pub enum TemplateError<E> {
    /// Bad braces.
    Syntax(TemplateSyntaxError),
    /// A name the resolver refused.
    Resolve(Name, E),
}

/// Why `name` cannot name a variable, if it cannot: names are letters, digits, `_`, `-`, one
/// `.` between a data set and its column, and a leading `$` for built-ins.
fn bad_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an empty `{{}}` names no variable".into());
    }
    if name.contains("{{") {
        return Some("`{{` without its closing `}}`".into());
    }
    let body = name.strip_prefix('$').unwrap_or(name);
    let ok = !body.is_empty()
        && body.matches('.').count() <= 1
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    (!ok).then(|| format!("'{name}' is not a variable name (letters, digits, _ and -; DATA.column for a data file)"))
}

/// Append `value` escaped for its place.
pub fn escape_into(value: &[u8], escape: Escape, out: &mut Vec<u8>) {
    match escape {
        Escape::Raw => out.extend_from_slice(value),
        Escape::Json => json_escape(value, out),
        Escape::Form => form_encode(value, out),
        Escape::Url => {
            for &b in value {
                if b.is_ascii_graphic() {
                    out.push(b);
                } else {
                    percent(b, out);
                }
            }
        }
        Escape::Header => out.extend(value.iter().map(|&b| {
            if matches!(b, b'\r' | b'\n' | 0) {
                b' '
            } else {
                b
            }
        })),
    }
}

fn percent(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

/// `application/x-www-form-urlencoded`: unreserved bytes as is, space as `+`, the rest `%XX`.
pub fn form_encode(value: &[u8], out: &mut Vec<u8>) {
    for &b in value {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b),
            b' ' => out.push(b'+'),
            _ => percent(b, out),
        }
    }
}

fn json_escape(value: &[u8], out: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(value);
    let quoted = serde_json::to_string(text.as_ref()).unwrap_or_default();
    // Strip the quotes: the template already sits inside a JSON string.
    out.extend_from_slice(&quoted.as_bytes()[1..quoted.len().saturating_sub(1).max(1)]);
}

impl fmt::Display for VarRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarRef::Slot(s) => write!(f, "variable #{s}"),
            VarRef::Column { data, column } => write!(f, "column {column} of data set {data}"),
            VarRef::Session => f.write_str("$session"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Values for Fixed {
        fn value(&self, var: &VarRef) -> Option<&[u8]> {
            match var {
                VarRef::Slot(0) => Some(b"a b\"c\r\n"),
                _ => None,
            }
        }
        fn session(&self) -> u64 {
            7
        }
    }

    fn parse(text: &str) -> Template {
        Template::parse(text, |n| match n.text.as_str() {
            "x" => Ok::<_, ()>(VarRef::Slot(0)),
            "$session" => Ok(VarRef::Session),
            _ => Ok(VarRef::Slot(1)),
        })
        .unwrap()
    }

    fn render(text: &str, escape: Escape) -> String {
        let mut out = Vec::new();
        parse(text).render(&Fixed, escape, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_escaped_for_their_place() {
        assert_eq!(render("<{{x}}>", Escape::Raw), "<a b\"c\r\n>");
        assert_eq!(render("<{{ x }}>", Escape::Json), "<a b\\\"c\\r\\n>");
        assert_eq!(render("{{x}}", Escape::Form), "a+b%22c%0D%0A");
        assert_eq!(render("/p?q={{x}}", Escape::Url), "/p?q=a%20b\"c%0D%0A");
        assert_eq!(render("v={{x}}", Escape::Header), "v=a b\"c  ");
        assert_eq!(render("s{{$session}}", Escape::Raw), "s7");
    }

    #[test]
    fn unset_variables_and_bad_braces_are_errors() {
        let mut out = Vec::new();
        assert_eq!(
            parse("{{y}}").render(&Fixed, Escape::Raw, &mut out),
            Err(VarRef::Slot(1))
        );
        let bad = Template::parse("ab{{x", |_| Ok::<_, ()>(VarRef::Session));
        assert!(matches!(bad, Err(TemplateError::Syntax(e)) if e.offset == 2));
        let empty = Template::parse("{{ }}", |_| Ok::<_, ()>(VarRef::Session));
        assert!(matches!(empty, Err(TemplateError::Syntax(_))));
    }

    #[test]
    fn literal_prefix_joins_a_base() {
        let t = parse("/login?x={{x}}").with_prefix(b"/api/login", 6);
        let mut out = Vec::new();
        t.render(&Fixed, Escape::Url, &mut out).unwrap();
        assert_eq!(out, b"/api/login?x=a%20b\"c%0D%0A");
    }
}
