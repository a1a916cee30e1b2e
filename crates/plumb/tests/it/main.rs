//! End-to-end tests of the `plumb` binary: each module runs the built binary as a user would and
//! checks its exit code, stdout, stderr and the files it writes.

mod bench;
mod calibrate;
mod capacity;
mod coordinate;
mod db;
mod flows;
mod ledger;
mod load;
mod merge;
mod messages;
mod monitor;
mod outputs;
mod page;
mod plan;
mod profile;
mod profiles;
mod report;
mod segments;
mod signals;
mod support;
