//! End-to-end tests of the `plumb` binary: exit codes, errors, outputs, interrupts.

mod load;
mod support;
