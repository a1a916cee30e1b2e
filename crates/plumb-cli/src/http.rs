//! Checks of what `-m` and `-H` put on the wire: an HTTP method is an RFC 9110 token, a header
//! name a token and a header value has no control characters, so no flag can split a request.

use crate::limits::MAX_METHOD_LEN;
use crate::parse::CliError;

const METHOD_HINT: &str = "give an HTTP method such as GET, POST, PUT, DELETE or PATCH \
                           (letters, digits and !#$%&'*+-.^_`|~ only)";

/// RFC 9110 `tchar`: the characters of a token (methods, header names).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parse `-m`: a token of at most [`MAX_METHOD_LEN`] characters, upper-cased.
pub fn parse_method(text: &str) -> Result<String, CliError> {
    let bad = |why: &str| CliError::flag("--method", text, why, METHOD_HINT);
    if text.is_empty() {
        return Err(bad("is empty"));
    }
    if let Some(c) = text.chars().find(|c| !u8::try_from(*c).is_ok_and(is_tchar)) {
        return Err(bad(&format!(
            "is not an HTTP method: {} is not allowed in a method",
            describe_char(c)
        )));
    }
    if text.len() > MAX_METHOD_LEN {
        return Err(bad(&format!(
            "is longer than the limit of {MAX_METHOD_LEN} characters"
        )));
    }
    Ok(text.to_ascii_uppercase())
}

/// Parse `-H 'Name: value'`: the name a token, the value free of control characters.
pub fn parse_header(text: &str) -> Result<(String, String), CliError> {
    let bad = |why: &str| {
        CliError::flag(
            "--header",
            text,
            why,
            "write it as -H 'Name: value', e.g. -H 'Accept: application/json'",
        )
    };
    let (name, value) = text.split_once(':').ok_or_else(|| bad("is missing ':'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("has an empty header name"));
    }
    if let Some(c) = name.chars().find(|c| !u8::try_from(*c).is_ok_and(is_tchar)) {
        return Err(bad(&format!(
            "has an invalid header name: {} is not allowed in a name",
            describe_char(c)
        )));
    }
    let value = value.trim_matches([' ', '\t']);
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(bad(&format!(
            "has {} in its value: control characters would corrupt the request",
            describe_char(c)
        )));
    }
    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("has an invalid header name"))?;
    framing_header(name, value).map_err(bad)?;
    Ok((name.to_string(), value.to_string()))
}

/// plumb frames the body itself (`Content-Length` from `-b`/`--body-file`); a header that says
/// otherwise would send a request whose framing lies, and the server would wait or misparse.
fn framing_header(name: &str, value: &str) -> Result<(), &'static str> {
    if name.eq_ignore_ascii_case("content-length") {
        return Err("sets Content-Length, which plumb computes from -b/--body-file (a wrong one corrupts the request)");
    }
    if name.eq_ignore_ascii_case("transfer-encoding") {
        return Err("sets Transfer-Encoding, but plumb sends the body with a Content-Length");
    }
    if name.eq_ignore_ascii_case("host") && value.is_empty() {
        return Err("sets an empty Host");
    }
    Ok(())
}

/// A character as an error message shows it: `CR`, `LF`, `NUL`, `space`, or quoted.
fn describe_char(c: char) -> String {
    match c {
        '\r' => "CR (\\r)".into(),
        '\n' => "LF (\\n)".into(),
        '\0' => "NUL (\\0)".into(),
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c => format!("'{c}'"),
    }
}
