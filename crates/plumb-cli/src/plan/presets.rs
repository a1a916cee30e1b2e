//! The presets: the classic test types derived from the normal scenario. `load` runs it as
//! written; `stress` runs it at 1x to 5x its rate (or connections) in steps and finds where the
//! goals start to fail; `soak` runs it long; `spike` jumps to N times its load for a short hold
//! and back, to measure the errors during the spike and the time to recover.

use super::file::{Number, RawPresets};
use super::scenario::{Arg, Scenario};
use super::{PlanError, Source};
use crate::parse::{parse_run_duration, CliError};
use std::time::Duration;
use toml::Spanned;

/// Connections of `plumb load`'s closed model when a scenario gives none.
const DEFAULT_CONNECTIONS: u32 = 50;
/// The most steps of a stress test.
const MAX_STRESS_STEPS: usize = 20;
/// The largest factor of a stress step or a spike.
const MAX_FACTOR: f64 = 1_000.0;

/// The classic test types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The normal scenario as written.
    Load,
    /// Steps at multiples of the normal load.
    Stress,
    /// The normal load for a long time.
    Soak,
    /// A sudden jump to N times the normal load, and back.
    Spike,
}

impl Preset {
    /// The preset called `name`.
    pub fn named(name: &str) -> Option<Preset> {
        match name {
            "load" => Some(Preset::Load),
            "stress" => Some(Preset::Stress),
            "soak" => Some(Preset::Soak),
            "spike" => Some(Preset::Spike),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Load => "load",
            Preset::Stress => "stress",
            Preset::Soak => "soak",
            Preset::Spike => "spike",
        }
    }
}

/// `[presets.stress]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Stress {
    /// Multiples of the normal load, in order.
    pub factors: Vec<f64>,
    /// Length of each step.
    pub step: Duration,
    /// Run every step even after the goals failed (by default the steps stop at the first
    /// failing one: a heavier load only hurts the target more).
    pub all_steps: bool,
}

/// `[presets.spike]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// The spike's multiple of the normal load.
    pub factor: f64,
    /// Normal load before the spike.
    pub before: Duration,
    /// How long the spike holds.
    pub hold: Duration,
    /// Normal load after it, in which the target must recover.
    pub after: Duration,
}

/// `[presets]`, checked, with the defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Presets {
    /// The stress steps.
    pub stress: Stress,
    /// The soak's length.
    pub soak: Duration,
    /// The spike.
    pub spike: Spike,
}

/// One run of a preset: its label and `plumb load`'s arguments.
#[derive(Debug, Clone)]
pub struct PresetRun {
    /// e.g. `stress 3x`.
    pub label: String,
    /// The multiple of the normal load (1 for load and soak).
    pub factor: f64,
    /// The load's requested rate (open model) or connections (closed model).
    pub level: f64,
    /// `plumb load`'s arguments.
    pub args: Vec<Arg>,
}

impl Presets {
    pub(super) fn check(source: &Source<'_>, raw: &RawPresets) -> Result<Presets, PlanError> {
        let duration = |value: &Option<Spanned<String>>, key: &str, default: &str| {
            let text = value.as_ref().map_or(default, |v| v.get_ref().as_str());
            parse_run_duration(key, text).map_err(|e| {
                let span = value.as_ref().map(Spanned::span);
                source.error(
                    span,
                    Some(key),
                    &cli_message(&e),
                    "e.g. \"30s\", \"2m\", \"1h\"",
                )
            })
        };
        let factor = |value: &Spanned<Number>, key: &str| {
            let f = value.get_ref().value();
            if f.is_finite() && f > 0.0 && f <= MAX_FACTOR {
                Ok(f)
            } else {
                Err(source.error(
                    Some(value.span()),
                    Some(key),
                    &format!(
                        "{} is not a multiple of the normal load above 0 and at most {MAX_FACTOR}",
                        value.get_ref().text()
                    ),
                    "e.g. 2 for twice the normal rate",
                ))
            }
        };
        let factors = match &raw.stress.factors {
            None => vec![1.0, 2.0, 3.0, 4.0, 5.0],
            Some(list) => {
                if list.get_ref().is_empty() || list.get_ref().len() > MAX_STRESS_STEPS {
                    return Err(source.error(
                        Some(list.span()),
                        Some("presets.stress.factors"),
                        &format!(
                            "has {} steps; a stress test has 1 to {MAX_STRESS_STEPS}",
                            list.get_ref().len()
                        ),
                        "e.g. factors = [1, 2, 3, 4, 5]",
                    ));
                }
                list.get_ref()
                    .iter()
                    .map(|n| factor(&Spanned::new(list.span(), *n), "presets.stress.factors"))
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let spike_factor = match &raw.spike.factor {
            Some(f) => factor(f, "presets.spike.factor")?,
            None => 5.0,
        };
        Ok(Presets {
            stress: Stress {
                factors,
                step: duration(&raw.stress.step, "presets.stress.step", "30s")?,
                all_steps: raw.stress.all_steps,
            },
            soak: duration(&raw.soak.duration, "presets.soak.duration", "1h")?,
            spike: Spike {
                factor: spike_factor,
                before: duration(&raw.spike.before, "presets.spike.before", "20s")?,
                hold: duration(&raw.spike.hold, "presets.spike.hold", "10s")?,
                after: duration(&raw.spike.after, "presets.spike.after", "30s")?,
            },
        })
    }

    /// The runs of `preset` derived from the `normal` scenario.
    pub fn runs(&self, preset: Preset, normal: &Scenario) -> Result<Vec<PresetRun>, PlanError> {
        let shape = Shape::of(normal);
        match preset {
            Preset::Load => Ok(vec![PresetRun {
                label: "load".to_owned(),
                factor: 1.0,
                level: shape.level,
                args: normal.args.clone(),
            }]),
            Preset::Soak => Ok(vec![PresetRun {
                label: "soak".to_owned(),
                factor: 1.0,
                level: shape.level,
                args: shape.constant(normal, 1.0, self.soak),
            }]),
            Preset::Stress => {
                shape.refuse_stages(normal, preset)?;
                Ok(self
                    .stress
                    .factors
                    .iter()
                    .map(|&f| PresetRun {
                        label: format!("stress {}x", trim(f)),
                        factor: f,
                        level: shape.level * f,
                        args: shape.constant(normal, f, self.stress.step),
                    })
                    .collect())
            }
            Preset::Spike => {
                shape.refuse_stages(normal, preset)?;
                Ok(vec![PresetRun {
                    label: format!("spike {}x", trim(self.spike.factor)),
                    factor: self.spike.factor,
                    level: shape.level * self.spike.factor,
                    args: shape.spike(normal, &self.spike),
                }])
            }
        }
    }
}

/// `2` for 2.0, `1.5` for 1.5.
fn trim(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

fn cli_message(e: &CliError) -> String {
    let text = e.to_string();
    text.split("\nhint: ").next().unwrap_or(&text).to_owned()
}

/// The normal scenario's load: a rate (open model) or connections (closed model).
struct Shape {
    open: bool,
    level: f64,
}

/// The flags a preset replaces.
const SHAPE_FLAGS: &[&str] = &["--rate", "--duration", "--stages", "--requests"];

impl Shape {
    fn of(normal: &Scenario) -> Shape {
        match normal.rate {
            Some(rate) => Shape {
                open: true,
                level: rate,
            },
            None => Shape {
                open: false,
                level: f64::from(normal.connections.unwrap_or(DEFAULT_CONNECTIONS)),
            },
        }
    }

    fn refuse_stages(&self, normal: &Scenario, preset: Preset) -> Result<(), PlanError> {
        if !normal.staged {
            return Ok(());
        }
        Err(normal.fault(
            &normal.args,
            "--stages",
            &format!("the {} preset derives from a constant load, and the normal scenario has stages", preset.name()),
            "give the normal scenario a constant rate (or connections), or set [plan] normal to one that has",
        ))
    }

    /// The normal arguments without the flags that shape the load over time (and, in the
    /// closed model, without the connections, which the preset sets).
    fn base(&self, normal: &Scenario) -> Vec<Arg> {
        normal
            .args
            .iter()
            .filter(|a| !SHAPE_FLAGS.contains(&a.flag))
            .filter(|a| self.open || a.flag != "--connections")
            .cloned()
            .collect()
    }

    /// A constant load at `factor` times the normal one, for `length`.
    fn constant(&self, normal: &Scenario, factor: f64, length: Duration) -> Vec<Arg> {
        let mut args = self.base(normal);
        args.push(self.level_arg(self.level * factor));
        args.push(Arg::extra("--duration", Some(seconds(length))));
        args
    }

    fn level_arg(&self, level: f64) -> Arg {
        if self.open {
            Arg::extra("--rate", Some(format!("{level}")))
        } else {
            Arg::extra("--connections", Some(format!("{}", level.round().max(1.0))))
        }
    }

    /// Normal load, a jump to `factor` times it, the hold, a drop back, and normal load after.
    fn spike(&self, normal: &Scenario, spike: &Spike) -> Vec<Arg> {
        let mut args = self.base(normal);
        let normal_level = if self.open {
            self.level
        } else {
            self.level.round()
        };
        let high = if self.open {
            self.level * spike.factor
        } else {
            (self.level * spike.factor).round()
        };
        args.push(self.level_arg(normal_level));
        let stages = format!(
            "{}:{normal_level},0s:{high},{}:{high},0s:{normal_level},{}:{normal_level}",
            seconds(spike.before),
            seconds(spike.hold),
            seconds(spike.after)
        );
        args.push(Arg::extra("--stages", Some(stages)));
        args
    }
}

/// A duration as `plumb load` reads it, in whole milliseconds: `30s`, `1500ms`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}
