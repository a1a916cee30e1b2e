//! `--threshold` and `--allow-no-data`, shared by `plumb load` and `plumb gate`: parsing the
//! expressions, and saying plainly when a threshold had no data and what that did to the run.

use crate::parse::CliError;
use plumb_stats::{NoData, Threshold, ThresholdStatus};

/// Parse every `--threshold` expression; the error points at the bad part.
pub fn parse_thresholds(expressions: &[String]) -> Result<Vec<Threshold>, CliError> {
    expressions
        .iter()
        .map(|t| Threshold::parse(t).map_err(CliError::Threshold))
        .collect()
}

/// `--allow-no-data` as what a threshold with no data counts as.
pub fn no_data_policy(allow_no_data: bool) -> NoData {
    if allow_no_data {
        NoData::Passes
    } else {
        NoData::Fails
    }
}

/// One warning for each threshold whose status is "no data", in order: why it has no data, and
/// whether it failed the run.
pub fn no_data_warnings(
    thresholds: &[Threshold],
    statuses: impl IntoIterator<Item = ThresholdStatus>,
    no_data: NoData,
) -> Vec<String> {
    thresholds
        .iter()
        .zip(statuses)
        .filter(|(_, status)| *status == ThresholdStatus::NoData)
        .map(|(threshold, _)| no_data_warning(threshold, no_data))
        .collect()
}

/// `threshold 'EXPR' has no data: 0 responses measured http_req_duration; it fails the run ...`.
pub fn no_data_warning(threshold: &Threshold, no_data: NoData) -> String {
    let consequence = match no_data {
        NoData::Fails => "it fails the run (--allow-no-data lets it pass)",
        NoData::Passes => "it passes because of --allow-no-data",
    };
    format!(
        "threshold '{}' has {}; {consequence}",
        threshold.source,
        threshold.no_data_reason()
    )
}
