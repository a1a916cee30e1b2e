//! Flags of `plumb target`.

/// Arguments of `plumb target`.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {}
