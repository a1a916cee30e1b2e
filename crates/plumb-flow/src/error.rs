//! The error of a flow file: the file, the line and column, what is wrong, and what to do.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A flow file that cannot be used. Displays as `path:line:col: message` and a `hint:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFileError {
    /// The file.
    pub path: PathBuf,
    /// Line and column (1-based), where the problem has a place in the file.
    pub at: Option<(usize, usize)>,
    /// What is wrong, naming the key or field.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl fmt::Display for FlowFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "{}:{line}:{column}: ", self.path.display())?,
            None => write!(f, "{}: ", self.path.display())?,
        }
        write!(f, "{}\nhint: {}", self.message, self.hint)
    }
}

impl std::error::Error for FlowFileError {}

/// Turns byte offsets of a file's text into lines and columns, for errors.
#[derive(Debug, Clone)]
pub struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl<'a> Locator<'a> {
    /// A locator over `text`, the contents of `path`.
    pub fn new(path: &'a Path, text: &'a str) -> Locator<'a> {
        Locator { path, text }
    }

    /// The 1-based line and column of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// An error at byte `offset`.
    pub fn at(
        &self,
        offset: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> FlowFileError {
        FlowFileError {
            path: self.path.to_path_buf(),
            at: Some(self.line_col(offset)),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// An error at the start of `span`.
    pub fn span(
        &self,
        span: &Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> FlowFileError {
        self.at(span.start, message, hint)
    }

    /// An error of the whole file.
    pub fn file(&self, message: impl Into<String>, hint: impl Into<String>) -> FlowFileError {
        FlowFileError {
            path: self.path.to_path_buf(),
            at: None,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

fn floor_char(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
