//! Snapshot tests of every renderer, from fixed results (no clock, no network).

mod load;
