//! Renderers of plumb results into text, Markdown and JSON.
//!
//! Renderers take the versioned `plumb-schema` types and return strings; they never measure,
//! print, or read the clock, so their output is snapshot-tested from fixed inputs.

pub mod bench;
pub mod capacity;
pub mod chart;
pub mod compare;
pub mod db;
pub mod flows;
pub mod format;
pub mod html;
pub mod junit;
pub mod layout;
pub mod load;
pub mod markdown;
pub mod page;
pub mod per_second;
pub mod plan;
pub mod profile;
pub mod thresholds;
pub mod ticks;
