//! Known truth for comparisons: seeded synthetic samples where the true change is known, real
//! A/A runs of commands, synthetic load runs built with the load engine's own recorder, and
//! properties that must hold for every row.

mod bench;
mod load;
mod properties;
mod support;
mod thresholds;
