//! End-to-end tests of the `plumb` binary: each module runs the built binary as a user would.

mod profile;
