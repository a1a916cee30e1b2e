//! Parameters: expanding `--parameter-scan`/`--parameter-list` into values, and substituting
//! `{NAME}` into commands and names to get the list of benchmarks to run.

use std::collections::BTreeMap;

use crate::settings::{CommandSpec, Parameter};

/// A mistake in a parameter's definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    /// A scan bound or step is not a number.
    #[error("`{value}` is not a number")]
    NotANumber {
        /// The offending text.
        value: String,
    },
    /// The step is zero or negative.
    #[error("the step must be greater than zero, got `{step}`")]
    BadStep {
        /// The offending step.
        step: String,
    },
    /// The scan would go downwards.
    #[error("the minimum `{min}` is greater than the maximum `{max}`")]
    Reversed {
        /// Lower bound as given.
        min: String,
        /// Upper bound as given.
        max: String,
    },
    /// The scan has more values than anyone means to run.
    #[error("the scan has more than {limit} values")]
    TooMany {
        /// The largest number of values allowed.
        limit: usize,
    },
    /// A list has no values.
    #[error("the list of values is empty")]
    Empty,
}

/// The most values a scan may produce, to catch a forgotten `--step`.
pub const MAX_SCAN_VALUES: usize = 100_000;

/// The values from `min` to `max` inclusive, `step` apart (1 by default).
///
/// Integers stay integers; if any bound or the step has a decimal point, values are printed with
/// as many decimals as the most precise input, and built as `min + i·step` so errors do not add up.
pub fn scan_values(
    min: &str,
    max: &str,
    step: Option<&str>,
) -> Result<Vec<String>, ParameterError> {
    let step_text = step.unwrap_or("1");
    let (low, high, delta) = (number(min)?, number(max)?, number(step_text)?);
    if delta <= 0.0 {
        return Err(ParameterError::BadStep {
            step: step_text.to_owned(),
        });
    }
    if low > high {
        return Err(ParameterError::Reversed {
            min: min.to_owned(),
            max: max.to_owned(),
        });
    }
    // Counted in f64 before any cast: `-P n 1 1e308` must be "too many", not an overflow.
    let steps = ((high - low) / delta + 1e-9).floor();
    if !steps.is_finite() || steps + 1.0 > MAX_SCAN_VALUES as f64 {
        return Err(ParameterError::TooMany {
            limit: MAX_SCAN_VALUES,
        });
    }
    let count = steps as usize + 1;
    let decimals = [min, max, step_text]
        .iter()
        .map(|t| decimals(t))
        .max()
        .unwrap_or(0);
    Ok((0..count)
        .map(|i| format!("{:.*}", decimals, low + i as f64 * delta))
        .collect())
}

/// Split `a,b,c` into its values.
pub fn list_values(list: &str) -> Result<Vec<String>, ParameterError> {
    let values: Vec<String> = list.split(',').map(str::to_owned).collect();
    if values.iter().all(String::is_empty) {
        return Err(ParameterError::Empty);
    }
    Ok(values)
}

fn number(text: &str) -> Result<f64, ParameterError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| ParameterError::NotANumber {
            value: text.to_owned(),
        })
}

fn decimals(text: &str) -> usize {
    text.split_once('.')
        .map_or(0, |(_, fraction)| fraction.trim().len())
}

/// One concrete benchmark: a command with its parameters substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benchmark {
    /// Label for reports.
    pub name: String,
    /// The command line to run.
    pub command: String,
    /// The parameter values used.
    pub parameters: BTreeMap<String, String>,
}

/// Every command for every combination of parameter values (commands vary slowest, then the
/// parameters in the order given, the last one fastest).
pub fn expand(commands: &[CommandSpec], parameters: &[Parameter]) -> Vec<Benchmark> {
    let combinations = combinations(parameters);
    commands
        .iter()
        .flat_map(|spec| {
            combinations
                .iter()
                .map(move |values| instantiate(spec, values))
        })
        .collect()
}

fn combinations(parameters: &[Parameter]) -> Vec<BTreeMap<String, String>> {
    let mut all = vec![BTreeMap::new()];
    for parameter in parameters {
        all = all
            .into_iter()
            .flat_map(|partial| {
                parameter.values.iter().map(move |value| {
                    let mut next = partial.clone();
                    next.insert(parameter.name.clone(), value.clone());
                    next
                })
            })
            .collect();
    }
    all
}

fn instantiate(spec: &CommandSpec, values: &BTreeMap<String, String>) -> Benchmark {
    let command = substitute(&spec.command, values);
    let name = spec
        .name
        .as_deref()
        .map_or_else(|| command.clone(), |name| substitute(name, values));
    Benchmark {
        name,
        command,
        parameters: values.clone(),
    }
}

/// Replace every `{NAME}` of a known parameter; other braces are left alone.
pub fn substitute(template: &str, values: &BTreeMap<String, String>) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_scan_with_and_without_step() {
        assert_eq!(scan_values("1", "4", None).unwrap(), ["1", "2", "3", "4"]);
        assert_eq!(scan_values("0", "10", Some("5")).unwrap(), ["0", "5", "10"]);
        assert_eq!(scan_values("0", "9", Some("5")).unwrap(), ["0", "5"]);
    }

    #[test]
    fn decimal_scan_keeps_the_precision_of_its_inputs() {
        assert_eq!(
            scan_values("0", "0.3", Some("0.1")).unwrap(),
            ["0.0", "0.1", "0.2", "0.3"]
        );
    }

    #[test]
    fn bad_scans_are_refused() {
        assert!(matches!(
            scan_values("a", "2", None),
            Err(ParameterError::NotANumber { .. })
        ));
        assert!(matches!(
            scan_values("1", "2", Some("0")),
            Err(ParameterError::BadStep { .. })
        ));
        assert!(matches!(
            scan_values("3", "2", None),
            Err(ParameterError::Reversed { .. })
        ));
        for (min, max) in [("0", "1e9"), ("1", "1e308"), ("-1e308", "1e308")] {
            assert!(
                matches!(
                    scan_values(min, max, None),
                    Err(ParameterError::TooMany { .. })
                ),
                "{min}..{max}"
            );
        }
        assert_eq!(list_values(""), Err(ParameterError::Empty));
    }

    #[test]
    fn expansion_is_the_cartesian_product_in_order() {
        let commands = [CommandSpec {
            command: "sort -S {size} {file}".into(),
            name: Some("s{size}".into()),
        }];
        let parameters = [
            Parameter {
                name: "size".into(),
                values: vec!["1".into(), "2".into()],
            },
            Parameter {
                name: "file".into(),
                values: vec!["a".into(), "b".into()],
            },
        ];
        let benchmarks = expand(&commands, &parameters);
        let lines: Vec<_> = benchmarks
            .iter()
            .map(|b| (b.name.as_str(), b.command.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("s1", "sort -S 1 a"),
                ("s1", "sort -S 1 b"),
                ("s2", "sort -S 2 a"),
                ("s2", "sort -S 2 b")
            ]
        );
        assert_eq!(benchmarks[3].parameters["file"], "b");
    }

    #[test]
    fn unknown_placeholders_are_left_alone() {
        let values = BTreeMap::from([("n".to_owned(), "3".to_owned())]);
        assert_eq!(substitute("awk '{print}' {n}", &values), "awk '{print}' 3");
    }
}
