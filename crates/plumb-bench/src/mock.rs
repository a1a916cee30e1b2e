//! A scripted [`Executor`] for tests: it runs nothing and returns what a closure says, so the
//! runner, the statistics and every report can be checked deterministically.

use std::io;

use crate::executor::{Executor, Invocation, Measurement};

/// A script: given the invocation and how many invocations came before it, what it "cost".
pub type Script = Box<dyn FnMut(&Invocation, usize) -> io::Result<Measurement>>;

/// An executor that answers from a script and remembers every invocation.
pub struct MockExecutor {
    script: Script,
    /// Every invocation so far, in order.
    pub invocations: Vec<Invocation>,
    /// What [`Executor::peak_rss_floor`] answers.
    pub peak_rss_floor: Option<u64>,
}

impl MockExecutor {
    /// An executor that answers each invocation with `script(invocation, index)`.
    pub fn new(
        script: impl FnMut(&Invocation, usize) -> io::Result<Measurement> + 'static,
    ) -> Self {
        MockExecutor {
            script: Box::new(script),
            invocations: Vec::new(),
            peak_rss_floor: None,
        }
    }

    /// The command lines run so far (the last argument of each invocation, which is the
    /// command itself when a shell is used), for asserting on the order of runs.
    pub fn command_lines(&self) -> Vec<String> {
        self.invocations
            .iter()
            .map(|i| i.args.last().cloned().unwrap_or_else(|| i.program.clone()))
            .collect()
    }
}

impl Executor for MockExecutor {
    fn execute(&mut self, invocation: &Invocation) -> io::Result<Measurement> {
        let index = self.invocations.len();
        self.invocations.push(invocation.clone());
        (self.script)(invocation, index)
    }

    fn peak_rss_floor(&self) -> Option<u64> {
        self.peak_rss_floor
    }
}
