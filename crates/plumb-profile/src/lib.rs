//! plumb's CPU sampler and resource timeline.
