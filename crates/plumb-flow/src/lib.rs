//! plumb's flow files: realistic traffic as named flows of steps, declared in TOML.
//!
//! A flow file's `[data.NAME]`, `[requests.NAME]` and `[flows.NAME]` sections (the rest of a
//! plan file belongs to other readers) are parsed with every value's place kept
//! ([`parse_flow_file`]), then compiled once: `{{variable}}` templates split into literals and
//! references, JSON paths (RFC 9535) and regexes parsed, variables resolved to slots, data columns
//! or built-ins. [`FlowFile::prepare`] opens the data files (memory-mapped, shared by every worker
//! without a copy), joins step URLs to the base URL and returns the [`FlowPlan`] the load engine
//! runs: per session a row of each data file it reads, its captured variables and its cookies.
//!
//! Nothing here does network I/O or prints; the engine (`plumb-load`) sends the requests.

#![deny(unsafe_code)]

pub mod capture;
pub mod compile;
pub mod data;
mod error;
mod file;
pub mod import;
pub mod plan;
pub mod spec;
pub mod template;
pub mod think;

pub use capture::{Check, CheckKind, ResponseView, Source};
pub use compile::{Capture, Flow, Step};
pub use error::{FlowFileError, Locator};
pub use file::{parse_flow_file, read_flow_file, FlowFile, MAX_FLOW_FILE};
pub use plan::{BaseUrl, FlowPlan, Mixer, Session, StepOutcome};
pub use think::Think;
