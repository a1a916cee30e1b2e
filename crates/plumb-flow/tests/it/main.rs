//! plumb-flow's integration tests: flow files as a person writes them, and the errors they get.

mod parse;
mod prepare;
