//! Flags of `plumb demo`.

/// Arguments of `plumb demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}
