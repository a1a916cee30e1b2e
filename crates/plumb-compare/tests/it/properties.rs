//! Properties every row keeps, whatever the samples.

use plumb_compare::{compare_runs, ChangeKind, CompareSettings, Stat, Unit};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The sign of Change is the sign of Candidate − Baseline, and no interval goes below −100%.
    #[test]
    fn change_agrees_with_the_columns(
        base in proptest::collection::vec(0.0f64..10.0, 0..40),
        cand in proptest::collection::vec(0.0f64..10.0, 0..40),
        mean in any::<bool>(),
    ) {
        let _serial = crate::support::serial();
        let stat = if mean { Stat::Mean } else { Stat::Median };
        let settings = CompareSettings { resamples: 200, ..CompareSettings::default() };
        let row = compare_runs("m", Unit::Seconds, stat, &base, &cand, &settings);
        if let Some(change) = row.change {
            let columns = row.candidate - row.baseline;
            prop_assert_eq!(change.point.signum() == columns.signum() || columns == 0.0 || change.point == 0.0, true);
            prop_assert!(change.point * columns >= 0.0, "{:?} vs {} -> {}", change, row.baseline, row.candidate);
            prop_assert_eq!(change.kind, ChangeKind::Relative);
            prop_assert!(change.low >= -1.0 && change.low <= change.point && change.point <= change.high);
        }
    }
}
