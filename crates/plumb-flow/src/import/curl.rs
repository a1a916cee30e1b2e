//! `plumb import curl 'curl -X POST -H ... -d ... URL'`: one step from a curl command line, as
//! browsers' "copy as cURL" writes it.
//!
//! Every option that changes the request is translated the way curl 7.88 sends it (checked
//! against a listening socket): `-u` becomes `Authorization: Basic`, `-b` a `Cookie` header
//! (pieces joined by `;`), `-d`/`--data-urlencode` pieces are joined by `&`, `-G` moves them into
//! the query, `--json` pieces are concatenated. Options that only change what curl prints or how
//! long it waits are accepted and ignored. Any other option is an error naming it: a dropped
//! option would be a different request, silently.

use super::{split_url, ImportError, Imported, ImportedStep};
use base64::Engine as _;
use std::path::Path;

#[cfg(test)]
mod tests;

/// The largest file a `@file` argument reads (as `body_file`).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What `--compressed` asks for (curl 7.88 built with zlib, brotli and zstd).
const COMPRESSED: &str = "deflate, gzip, br, zstd";

/// Options that take a value and do not change the request.
const IGNORED_WITH_VALUE: &[&str] = &[
    "--output",
    "--max-time",
    "--connect-timeout",
    "--write-out",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "--dump-header",
    "--cookie-jar",
    "--max-redirs",
    "--trace",
    "--trace-ascii",
    "--stderr",
];

/// Options without a value that do not change the request.
const IGNORED_FLAGS: &[&str] = &[
    "--silent",
    "--show-error",
    "--verbose",
    "--location",
    "--include",
    "--fail",
    "--fail-with-body",
    "--progress-bar",
    "--no-progress-meter",
    "--no-buffer",
    "--http1.1",
    "--globoff",
    "--remote-name",
    "--remote-header-name",
];

/// Options with a value that plumb translates.
const TRANSLATED_WITH_VALUE: &[&str] = &[
    "--request",
    "--header",
    "--data",
    "--data-ascii",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "--json",
    "--user",
    "--cookie",
    "--user-agent",
    "--referer",
    "--url",
];

/// A short option's long name.
fn long_name(short: char) -> Option<&'static str> {
    Some(match short {
        'X' => "--request",
        'H' => "--header",
        'd' => "--data",
        'u' => "--user",
        'b' => "--cookie",
        'A' => "--user-agent",
        'e' => "--referer",
        'I' => "--head",
        'G' => "--get",
        'k' => "--insecure",
        's' => "--silent",
        'S' => "--show-error",
        'v' => "--verbose",
        'L' => "--location",
        'i' => "--include",
        'f' => "--fail",
        '#' => "--progress-bar",
        'N' => "--no-buffer",
        'g' => "--globoff",
        'O' => "--remote-name",
        'J' => "--remote-header-name",
        'o' => "--output",
        'm' => "--max-time",
        'w' => "--write-out",
        'D' => "--dump-header",
        'c' => "--cookie-jar",
        _ => return None,
    })
}

fn takes_value(long: &str) -> bool {
    TRANSLATED_WITH_VALUE.contains(&long) || IGNORED_WITH_VALUE.contains(&long)
}

fn known(long: &str) -> bool {
    takes_value(long)
        || IGNORED_FLAGS.contains(&long)
        || matches!(long, "--head" | "--get" | "--insecure" | "--compressed")
}

fn unknown(option: &str) -> ImportError {
    ImportError::new(
        format!("plumb import curl does not know curl's option '{option}'"),
        "remove it if it does not change the request, or write the step by hand (docs/flows.md); \
         known: -X -H -d --data-raw --data-binary --data-urlencode --json -u -b -A -e -I -G \
         --compressed, and -s -S -v -L -i -k -o -m ... which are ignored",
    )
}

/// One header, remembering whether `-H` set it (which overrides what other options add).
#[derive(Debug)]
struct Header {
    name: String,
    value: String,
    explicit: bool,
}

/// A curl command line, option by option.
#[derive(Debug, Default)]
struct Command {
    method: Option<String>,
    head: bool,
    get: bool,
    url: Option<String>,
    headers: Vec<Header>,
    /// `-H 'Name:'`: curl sends no header of that name.
    removed: Vec<String>,
    data: Option<String>,
    json: bool,
    cookies: Vec<String>,
    compressed: bool,
    insecure: bool,
}

/// Import one curl command line; files named by `@file` are relative to `dir`.
pub fn curl(command: &str, dir: &Path) -> Result<Imported, ImportError> {
    let words = shell_words::split(command).map_err(|e| {
        ImportError::new(
            format!("cannot split the curl command: {e}"),
            "quote it as a shell would, e.g. plumb import curl 'curl -d \"a=1\" http://127.0.0.1:8080/'",
        )
    })?;
    let mut parsed = Command::default();
    parse_words(&mut parsed, words, dir)?;
    into_imported(parsed)
}

/// Walk the words: options (short clusters such as `-sSL` and attached values such as
/// `-XPOST` included) and the URL.
fn parse_words(cmd: &mut Command, words: Vec<String>, dir: &Path) -> Result<(), ImportError> {
    let mut words = words.into_iter().peekable();
    if words.peek().is_some_and(|w| w == "curl") {
        words.next();
    }
    // Bounded by the words of the command.
    while let Some(word) = words.next() {
        if word.starts_with("--") && word.len() > 2 {
            let value = if takes_value(&word) {
                Some(next_value(&word, &mut words)?)
            } else {
                None
            };
            apply(cmd, &word, value, dir)?;
        } else if word.starts_with('-') && word.len() > 1 {
            short_cluster(cmd, &word, &mut words, dir)?;
        } else {
            set_url(cmd, word)?;
        }
    }
    Ok(())
}

fn next_value(
    option: &str,
    words: &mut impl Iterator<Item = String>,
) -> Result<String, ImportError> {
    words.next().ok_or_else(|| {
        ImportError::new(
            format!("{option} needs a value"),
            "give the value after the option",
        )
    })
}

/// `-sSL`, `-XPOST`, `-d a=1`: each letter an option, the rest of the word (or the next word)
/// the value of the first that takes one.
fn short_cluster(
    cmd: &mut Command,
    word: &str,
    words: &mut impl Iterator<Item = String>,
    dir: &Path,
) -> Result<(), ImportError> {
    for (i, letter) in word.char_indices().skip(1) {
        let long = long_name(letter).ok_or_else(|| unknown(&format!("-{letter}")))?;
        if takes_value(long) {
            let rest = &word[i + letter.len_utf8()..];
            let value = if rest.is_empty() {
                next_value(&format!("-{letter}"), words)?
            } else {
                rest.to_string()
            };
            return apply(cmd, long, Some(value), dir);
        }
        apply(cmd, long, None, dir)?;
    }
    Ok(())
}

fn set_url(cmd: &mut Command, url: String) -> Result<(), ImportError> {
    if let Some(first) = &cmd.url {
        return Err(ImportError::new(
            format!("the curl command names two URLs, '{first}' and '{url}'"),
            "import one request at a time: one curl command per step",
        ));
    }
    cmd.url = Some(url);
    Ok(())
}

/// One option (by its long name) and its value.
fn apply(
    cmd: &mut Command,
    long: &str,
    value: Option<String>,
    dir: &Path,
) -> Result<(), ImportError> {
    if !known(long) {
        return Err(unknown(long));
    }
    let value = value.unwrap_or_default();
    match long {
        "--request" => cmd.method = Some(value),
        "--header" => header(cmd, &value)?,
        "--data" | "--data-ascii" => add_data(cmd, read_at(&value, dir, Strip::Newlines)?),
        "--data-raw" => add_data(cmd, value),
        "--data-binary" => add_data(cmd, read_at(&value, dir, Strip::Nothing)?),
        "--data-urlencode" => add_data(cmd, url_encoded(&value, dir)?),
        "--json" => json(cmd, read_at(&value, dir, Strip::Nothing)?),
        "--user" => user(cmd, &value)?,
        "--cookie" => cookie(cmd, value)?,
        "--user-agent" => set_header(cmd, "User-Agent", value),
        "--referer" => set_header(cmd, "Referer", value),
        "--url" => set_url(cmd, value)?,
        "--head" => cmd.head = true,
        "--get" => cmd.get = true,
        "--insecure" => cmd.insecure = true,
        "--compressed" => cmd.compressed = true,
        _ => {} // ignored: it does not change the request
    }
    Ok(())
}

/// `-H 'Name: value'`; `-H 'Name:'` removes the header curl would add, `-H 'Name;'` sends it
/// empty.
fn header(cmd: &mut Command, header: &str) -> Result<(), ImportError> {
    if header.starts_with('@') {
        return Err(ImportError::new(
            format!("-H '{header}' reads headers from a file"),
            "give each header as -H 'Name: value'",
        ));
    }
    if let Some(name) = header.strip_suffix(';').filter(|n| !n.contains(':')) {
        push_explicit(cmd, name.trim(), String::new());
        return Ok(());
    }
    let (name, value) = header.split_once(':').ok_or_else(|| {
        ImportError::new(
            format!("-H '{header}' is not 'Name: value'"),
            "write headers as -H 'Name: value'",
        )
    })?;
    let (name, value) = (name.trim(), value.trim());
    if value.is_empty() {
        cmd.removed.push(name.to_ascii_lowercase());
    } else if !connection_header(name) {
        push_explicit(cmd, name, value.to_string());
    }
    Ok(())
}

fn push_explicit(cmd: &mut Command, name: &str, value: String) {
    cmd.headers.push(Header {
        name: name.to_string(),
        value,
        explicit: true,
    });
}

/// A header another option sets: the last one of a name wins, as in curl.
fn set_header(cmd: &mut Command, name: &str, value: String) {
    cmd.headers.retain(|h| h.explicit || h.name != name);
    cmd.headers.push(Header {
        name: name.to_string(),
        value,
        explicit: false,
    });
}

/// Headers of the connection that plumb writes itself.
fn connection_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with(':')
        || matches!(
            lower.as_str(),
            "host"
                | "content-length"
                | "connection"
                | "keep-alive"
                | "transfer-encoding"
                | "upgrade"
                | "te"
        )
}

fn add_data(cmd: &mut Command, piece: String) {
    cmd.data = Some(match cmd.data.take() {
        Some(before) => format!("{before}&{piece}"),
        None => piece,
    });
}

/// `--json`: pieces concatenated, and JSON's Content-Type and Accept.
fn json(cmd: &mut Command, piece: String) {
    cmd.data = Some(cmd.data.take().unwrap_or_default() + &piece);
    cmd.json = true;
}

/// `-u user:password` as a Basic `Authorization`.
fn user(cmd: &mut Command, value: &str) -> Result<(), ImportError> {
    if !value.contains(':') {
        return Err(ImportError::new(
            format!("-u '{value}' has no password (curl would prompt for it)"),
            "give it as -u user:password",
        ));
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(value);
    set_header(cmd, "Authorization", format!("Basic {encoded}"));
    Ok(())
}

/// `-b 'a=1; b=2'` adds to the `Cookie` header; without `=` curl reads a cookie jar.
fn cookie(cmd: &mut Command, value: String) -> Result<(), ImportError> {
    if !value.contains('=') || value.starts_with('@') {
        return Err(ImportError::new(
            format!("-b '{value}' names a cookie file, which plumb does not read"),
            "give the cookies themselves, -b 'name=value; other=value', or let the flow capture \
             them: a session keeps the cookies its responses set",
        ));
    }
    cmd.cookies.push(value);
    Ok(())
}

/// What a `@file` argument's content loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strip {
    /// `-d @file`: carriage returns and newlines, as curl does.
    Newlines,
    /// `--data-binary @file`, `--json @file`: nothing.
    Nothing,
}

/// The value, or the content of the file it names after `@`.
fn read_at(value: &str, dir: &Path, strip: Strip) -> Result<String, ImportError> {
    let Some(file) = value.strip_prefix('@') else {
        return Ok(value.to_string());
    };
    let text = read_file(file, dir)?;
    Ok(match strip {
        Strip::Newlines => text.replace(['\r', '\n'], ""),
        Strip::Nothing => text,
    })
}

fn read_file(file: &str, dir: &Path) -> Result<String, ImportError> {
    if file == "-" {
        return Err(ImportError::new(
            "@- reads the body from standard input, which plumb import does not",
            "save the body to a file and name it: -d @body.json",
        ));
    }
    let path = dir.join(file);
    let cannot = |why: String| {
        ImportError::new(
            format!("cannot read {}: {why}", path.display()),
            "name a UTF-8 text file of at most 64 MiB (relative to the current directory)",
        )
    };
    let size = std::fs::metadata(&path)
        .map_err(|e| cannot(e.to_string()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(cannot(format!("{size} bytes, above the limit")));
    }
    let bytes = std::fs::read(&path).map_err(|e| cannot(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| cannot("not UTF-8".into()))
}

/// `--data-urlencode`: `content`, `=content`, `name=content`, `@file`, `name@file` (curl looks
/// for the first `=`, then for the first `@`); the content is encoded, the name kept.
fn url_encoded(value: &str, dir: &Path) -> Result<String, ImportError> {
    let (name, content) = if let Some((name, content)) = value.split_once('=') {
        (name, content.to_string())
    } else if let Some((name, file)) = value.split_once('@') {
        (name, read_file(file, dir)?)
    } else {
        ("", value.to_string())
    };
    let encoded = curl_escape(&content);
    Ok(if name.is_empty() {
        encoded
    } else {
        format!("{name}={encoded}")
    })
}

/// curl's `--data-urlencode` escape: unreserved bytes kept, a space as `+`, the rest `%XX`.
fn curl_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The parsed command as one imported step.
fn into_imported(mut cmd: Command) -> Result<Imported, ImportError> {
    let url = cmd.url.take().ok_or_else(|| {
        ImportError::new(
            "the curl command names no URL",
            "end it with the URL, e.g. curl http://127.0.0.1:8080/",
        )
    })?;
    let (base_url, mut path) = split_url(&url).ok_or_else(|| {
        ImportError::new(
            format!("'{url}' is not an http(s) URL"),
            "curl's URL must start with http:// or https://",
        )
    })?;
    let mut body = cmd.data.take();
    if cmd.get {
        if let Some(query) = body.take() {
            let joiner = if path.contains('?') { '&' } else { '?' };
            path = format!("{path}{joiner}{query}");
        }
    }
    add_implied_headers(&mut cmd, body.is_some());
    let method = cmd
        .method
        .clone()
        .unwrap_or_else(|| default_method(&cmd, &body));
    let step = ImportedStep {
        name: format!("{method} {}", path.split('?').next().unwrap_or("/")),
        method,
        url: path,
        headers: final_headers(&cmd),
        body,
        ..ImportedStep::default()
    };
    Ok(Imported {
        base_url,
        flow: "curl".into(),
        source: "a curl command".into(),
        steps: vec![step],
        notes: notes(&cmd),
    })
}

fn default_method(cmd: &Command, body: &Option<String>) -> String {
    let method = if cmd.head {
        "HEAD"
    } else if body.is_some() {
        "POST"
    } else {
        "GET"
    };
    method.into()
}

/// The headers curl adds for cookies, `--compressed`, `--json` and a form body.
fn add_implied_headers(cmd: &mut Command, has_body: bool) {
    if !cmd.cookies.is_empty() {
        let cookies = cmd.cookies.join(";");
        set_header(cmd, "Cookie", cookies);
    }
    if cmd.compressed {
        set_header(cmd, "Accept-Encoding", COMPRESSED.into());
    }
    if cmd.json {
        set_header(cmd, "Content-Type", "application/json".into());
        set_header(cmd, "Accept", "application/json".into());
    } else if has_body {
        set_header(
            cmd,
            "Content-Type",
            "application/x-www-form-urlencoded".into(),
        );
    }
}

/// `-H` headers, and the others unless `-H` set or removed their name.
fn final_headers(cmd: &Command) -> Vec<(String, String)> {
    let overridden = |name: &str| {
        let lower = name.to_ascii_lowercase();
        cmd.removed.contains(&lower)
            || cmd
                .headers
                .iter()
                .any(|h| h.explicit && h.name.eq_ignore_ascii_case(name))
    };
    cmd.headers
        .iter()
        .filter(|h| h.explicit || !overridden(&h.name))
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

fn notes(cmd: &Command) -> Vec<String> {
    let mut notes = Vec::new();
    if cmd.insecure {
        notes.push(
            "curl's -k (--insecure) skipped the certificate check: load it with plumb load -k"
                .to_string(),
        );
    }
    if cmd.compressed {
        notes.push(
            "--compressed: responses may come compressed; plumb does not decompress them, so \
             captures and checks read the compressed bytes"
                .to_string(),
        );
    }
    notes
}
