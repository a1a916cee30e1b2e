//! Renderers of plumb results: text, Markdown, JSON.

pub mod profile;
