//! Splitting a command line into words for `--no-shell`, with the quoting rules of a POSIX shell
//! that matter for a command line: single quotes, double quotes and backslashes. No expansion.

/// A command line that cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A quote was opened and never closed.
    #[error("unterminated {0} quote")]
    Unterminated(&'static str),
    /// The command line has no words.
    #[error("the command is empty")]
    Empty,
}

/// Split `line` into words: `a 'b c' "d\"e"` gives `a`, `b c`, `d"e`.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(current.take()),
            '\'' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(inner) => word.push(inner),
                        None => return Err(SplitError::Unterminated("single")),
                    }
                }
            }
            '"' => double_quoted(&mut chars, current.get_or_insert_with(String::new))?,
            '\\' => current.get_or_insert_with(String::new).extend(chars.next()),
            other => current.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(current);
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

fn double_quoted(chars: &mut std::str::Chars<'_>, word: &mut String) -> Result<(), SplitError> {
    loop {
        match chars.next() {
            Some('"') => return Ok(()),
            Some('\\') => match chars.next() {
                Some(escaped @ ('"' | '\\' | '$' | '`')) => word.push(escaped),
                Some(other) => {
                    word.push('\\');
                    word.push(other);
                }
                None => return Err(SplitError::Unterminated("double")),
            },
            Some(inner) => word.push(inner),
            None => return Err(SplitError::Unterminated("double")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: &[&str]) {
        assert_eq!(split(line).unwrap(), expected, "splitting {line:?}");
    }

    #[test]
    fn words_and_quotes() {
        check("sleep 0.1", &["sleep", "0.1"]);
        check("  a   b  ", &["a", "b"]);
        check("echo 'a b' \"c d\" e\\ f", &["echo", "a b", "c d", "e f"]);
        check("x'y'\"z\"", &["xyz"]);
        check("echo '' \"\"", &["echo", "", ""]);
        check(r#"echo "a\"b\n""#, &["echo", "a\"b\\n"]);
    }

    #[test]
    fn broken_lines_are_errors() {
        assert_eq!(split("echo 'a"), Err(SplitError::Unterminated("single")));
        assert_eq!(split("echo \"a"), Err(SplitError::Unterminated("double")));
        assert_eq!(split("   "), Err(SplitError::Empty));
    }
}
