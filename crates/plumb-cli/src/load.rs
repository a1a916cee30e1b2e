//! Flags of `plumb load`.

/// Arguments of `plumb load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {}
