//! Why a page could not be measured, each with the hint that says what to do.

use crate::cdp::CdpError;

/// Why `plumb page` could not measure.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No browser where one was looked for.
    #[error("no Chromium found: looked for {looked}")]
    BrowserMissing {
        /// Where it looked.
        looked: String,
    },
    /// The browser did not start or did not answer.
    #[error("cannot start the browser {browser}: {reason}")]
    Launch {
        /// The executable.
        browser: String,
        /// What went wrong.
        reason: String,
    },
    /// The browser could not reach or load the URL.
    #[error("cannot load {url}: {reason}")]
    Navigation {
        /// The page.
        url: String,
        /// The browser's error (`net::ERR_CONNECTION_REFUSED`).
        reason: String,
    },
    /// The load event did not fire in time.
    #[error(
        "{url} did not finish loading within {timeout_s} s (the load event never fired{pending})"
    )]
    LoadTimeout {
        /// The page.
        url: String,
        /// `--timeout`.
        timeout_s: f64,
        /// The requests still in flight, if any.
        pending: String,
    },
    /// The DevTools conversation failed.
    #[error("the browser stopped answering while loading {url}")]
    Protocol {
        /// The page.
        url: String,
        /// The call that failed.
        #[source]
        source: CdpError,
    },
    /// A local file or pipe could not be made.
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
}

impl PageError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            PageError::BrowserMissing { .. } => {
                "install Chromium (apt-get install chromium) or pass --browser PATH"
            }
            PageError::Launch { .. } => {
                "check that --browser names a Chromium or Chrome (version 112 or later, for its new headless mode)"
            }
            PageError::Navigation { .. } => {
                "check the URL and that the server is up; plumb page loads it from this machine"
            }
            PageError::LoadTimeout { .. } => {
                "raise --timeout for a slow page, or fix the request that never completes"
            }
            PageError::Protocol { .. } => {
                "the browser may have crashed; run again, or try another --browser"
            }
            PageError::Io(..) => return None,
        })
    }
}
