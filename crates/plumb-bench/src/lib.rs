//! plumb's command benchmark runner.
