//! `plumb import curl 'curl -X POST -H ... -d ... URL'`: one step from a curl command line, as
//! browsers' "copy as cURL" writes it.

use super::{dropped_header, split_url, ImportError, Imported, ImportedStep};

/// Import one curl command line.
pub fn curl(command: &str) -> Result<Imported, ImportError> {
    let words = shell_words::split(command).map_err(|e| {
        ImportError::new(
            format!("cannot split the curl command: {e}"),
            "quote it as a shell would, e.g. plumb import curl 'curl -d \"a=1\" http://127.0.0.1:8080/'",
        )
    })?;
    let mut words = words.into_iter().peekable();
    if words.peek().is_some_and(|w| w == "curl") {
        words.next();
    }
    let mut step = ImportedStep::default();
    let mut url = None;
    let mut body: Option<String> = None;
    let mut method = None;
    // Bounded by the words of the command.
    while let Some(word) = words.next() {
        let mut value = |flag: &str| {
            words.next().ok_or_else(|| {
                ImportError::new(
                    format!("{flag} needs a value"),
                    "give the value after the flag",
                )
            })
        };
        match word.as_str() {
            "-X" | "--request" => method = Some(value(&word)?),
            "-H" | "--header" => {
                let header = value(&word)?;
                let (name, v) = header.split_once(':').ok_or_else(|| {
                    ImportError::new(
                        format!("-H '{header}' is not 'Name: value'"),
                        "write headers as -H 'Name: value'",
                    )
                })?;
                if !dropped_header(name.trim()) {
                    step.headers
                        .push((name.trim().to_string(), v.trim().to_string()));
                }
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-ascii" => {
                let data = value(&word)?;
                body = Some(match body {
                    Some(before) => format!("{before}&{data}"),
                    None => data,
                });
            }
            "--json" => {
                body = Some(value(&word)?);
                step.headers
                    .push(("Content-Type".into(), "application/json".into()));
            }
            "-A" | "--user-agent" => step.headers.push(("User-Agent".into(), value(&word)?)),
            "-e" | "--referer" => step.headers.push(("Referer".into(), value(&word)?)),
            "-u" | "--user" | "-b" | "--cookie" | "-o" | "--output" | "-m" | "--max-time"
            | "--connect-timeout" => {
                value(&word)?;
            }
            "--url" => url = Some(value(&word)?),
            w if w.starts_with('-') => {}
            _ => url = Some(word),
        }
    }
    let url = url.ok_or_else(|| {
        ImportError::new(
            "the curl command names no URL",
            "end it with the URL, e.g. curl http://127.0.0.1:8080/",
        )
    })?;
    let (base_url, path) = split_url(&url).ok_or_else(|| {
        ImportError::new(
            format!("'{url}' is not an http(s) URL"),
            "curl's URL must start with http:// or https://",
        )
    })?;
    if body.is_some()
        && !step
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        // curl -d sends a form.
        step.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    step.method = method.unwrap_or_else(|| {
        if body.is_some() {
            "POST".into()
        } else {
            "GET".into()
        }
    });
    step.name = format!("{} {}", step.method, path.split('?').next().unwrap_or("/"));
    step.url = path;
    step.body = body;
    Ok(Imported {
        base_url,
        flow: "curl".into(),
        source: "a curl command".into(),
        steps: vec![step],
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copied_curl_command_becomes_a_step() {
        let imported = curl(
            r#"curl 'http://127.0.0.1:8080/login?next=%2F' -H 'Accept: application/json' -H 'Cookie: a=1' --data-raw '{"user":"a"}' -H 'Content-Type: application/json' --compressed"#,
        )
        .unwrap();
        assert_eq!(imported.base_url, "http://127.0.0.1:8080");
        let step = &imported.steps[0];
        assert_eq!(
            (step.method.as_str(), step.url.as_str()),
            ("POST", "/login?next=%2F")
        );
        assert_eq!(step.name, "POST /login");
        assert_eq!(step.body.as_deref(), Some(r#"{"user":"a"}"#));
        assert_eq!(
            step.headers,
            vec![
                ("Accept".to_string(), "application/json".to_string()),
                ("Content-Type".to_string(), "application/json".to_string())
            ]
        );
        assert!(curl("curl -X")
            .unwrap_err()
            .message
            .contains("-X needs a value"));
        assert!(curl("curl 'unclosed").is_err());
        assert!(curl("curl ftp://x/").is_err());
    }
}
