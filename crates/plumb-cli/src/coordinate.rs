//! Flags of `plumb coordinate` (the live coordinator of a test split into segments) and their
//! resolution into [`plumb_coordinate::FleetSettings`].

use crate::limits::MAX_RUN;
use crate::parse::{parse_duration_at_most, CliError};
use crate::segment::MAX_SEGMENTS;
use clap::Args;
use plumb_coordinate::FleetSettings;
use std::time::Duration;

/// Arguments of `plumb coordinate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  plumb coordinate --segments 4 --listen 0.0.0.0:7070 \\
      --threshold 'http_req_duration: p(99)<300ms' --abort-on-fail
  # then, on each of 4 machines (INDEX 0 to 3):
  plumb load http://10.0.0.5:8080/ --rate 40000 -d 5m --segment INDEX/4 \\
      --coordinator coordinator-host:7070 --json segment-INDEX.json
  plumb merge segment-*.json                                     the exact merged result

Exit codes: 0 every threshold held over the whole fleet, 1 one failed (or the fleet was aborted),
2 the fleet could not run (segments missing, a bad flag).")]
pub struct CoordinateArgs {
    /// How many segments make the test; the start is given once all of them joined
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SEGMENTS)))]
    pub segments: u32,

    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1:7070", value_name = "ADDR")]
    pub listen: String,

    /// Threshold in k6 syntax judged over the whole fleet every second and at the end
    /// (repeatable)
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// Stop every segment at the first threshold that fails over the whole fleet
    #[arg(long)]
    pub abort_on_fail: bool,

    /// Let a threshold whose metric has no data pass
    #[arg(long)]
    pub allow_no_data: bool,

    /// How long to wait for every segment to join
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub join_timeout: String,

    /// From the last segment's join to the start every segment is given
    #[arg(long, default_value = "2s", value_name = "DURATION")]
    pub lead: String,

    /// The longest the test may run once started: the coordinator aborts it after this
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub run_timeout: String,

    /// No line per second on stderr
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl CoordinateArgs {
    /// Check every flag; the error names the flag at fault.
    pub fn resolve(&self) -> Result<FleetSettings, CliError> {
        let lead = parse_duration_at_most("--lead", &self.lead, Duration::from_secs(600))?;
        Ok(FleetSettings {
            segments: self.segments,
            thresholds: crate::parse_thresholds(&self.thresholds)?,
            abort_on_fail: self.abort_on_fail,
            no_data: crate::no_data_policy(self.allow_no_data),
            join_timeout: parse_duration_at_most(
                "--join-timeout",
                &self.join_timeout,
                Duration::from_secs(24 * 3600),
            )?,
            lead,
            run_timeout: parse_duration_at_most("--run-timeout", &self.run_timeout, MAX_RUN)?,
        })
    }
}
