//! Reading segments' histograms exactly (plumb's one configuration enforced) and adding them.

use crate::{MergeError, Part};
use plumb_schema::load::LoadResult;
use plumb_stats::DurationHistogram;

/// One encoded histogram of `name`'s result, refused unless it has plumb's configuration.
pub fn decode(name: &str, what: &str, text: &str) -> Result<DurationHistogram, MergeError> {
    DurationHistogram::from_base64_exact(text).map_err(|source| MergeError::Histogram {
        name: name.to_owned(),
        what: what.to_owned(),
        source,
    })
}

/// The histogram `pick` chooses of every part, added bucket by bucket.
pub fn sum(
    parts: &[Part],
    what: &str,
    pick: impl Fn(&LoadResult) -> &String,
) -> Result<DurationHistogram, MergeError> {
    let mut total = DurationHistogram::new();
    for part in parts {
        total.merge(&decode(&part.name, what, pick(&part.result))?);
    }
    Ok(total)
}
