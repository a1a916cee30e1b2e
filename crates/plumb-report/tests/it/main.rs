//! Snapshot tests of every renderer, from fixed results (no clock, no network).

mod compare;
mod fixtures;
mod html;
mod load;
mod markdown;
mod per_second;
