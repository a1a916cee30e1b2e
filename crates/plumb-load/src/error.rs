//! Errors that stop a load test from starting. Failures of single requests are not errors: they are
//! counted by class in the result.

use std::path::PathBuf;

/// A load test could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The URL cannot be used.
    #[error("invalid URL '{url}': {reason}\nhint: {hint}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
        /// What to do.
        hint: String,
    },
    /// The host name did not resolve.
    #[error("cannot resolve host '{host}' of URL '{url}'\nhint: check the spelling, or use an IP address such as 127.0.0.1")]
    Resolve {
        /// The host.
        host: String,
        /// The URL.
        url: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// The CA certificate file could not be used.
    #[error("cannot use CA certificate file '{path}': {reason}\nhint: --cacert takes a PEM file with one or more certificates")]
    CaCert {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The settings contradict each other.
    #[error("{message}\nhint: {hint}")]
    Settings {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// A worker thread or its event loop could not be started.
    #[error("cannot start the load generator: {0}")]
    Runtime(#[source] std::io::Error),
}
