//! The embedded HTTP target of plumb, with knobs for latency, stalls, errors and size.
