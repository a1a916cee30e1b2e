//! Renderers of plumb results: text, Markdown, JSON.
