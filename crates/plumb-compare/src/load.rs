//! Load comparisons: whole-run percentiles, throughput, error rate and the watched server's CPU
//! and memory, with the runs of each side pooled. Intervals come from a moving-block bootstrap
//! over the runs' seconds: each second keeps its own latency histogram, so a resample's p99 is the
//! p99 of the merged histograms of the resampled seconds, the very statistic the columns show.

use crate::bootstrap::{interval, mean_at, resample, Resampling, Side};
use crate::judge::{judge_difference, judge_ratio, not_comparable, Judged};
use crate::widen::{
    floor_sd, percentile_floor, widen_ratio, SideNoise, FLOOR_SERVER_CPU, FLOOR_SERVER_MEMORY,
    FLOOR_THROUGHPUT,
};
use crate::{CompareSettings, Comparison, Direction, Row, Unit};
use plumb_schema::load::{LoadResult, SecondWindow};
use plumb_stats::DurationHistogram;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The percentiles compared, as quantiles.
const QUANTILES: [(f64, &str); 4] = [(0.5, "p50"), (0.9, "p90"), (0.95, "p95"), (0.99, "p99")];
/// A percentile needs at least this many requests above it on each side.
const MIN_TAIL: f64 = 10.0;
/// Fewer whole seconds than this on a side support no verdict.
const MIN_WINDOWS: usize = 3;
/// Seconds are merged into at most this many blocks per side before resampling (long runs).
const MAX_BLOCKS: usize = 120;
/// The smallest error-rate change worth a verdict, in absolute terms (0.1 percentage point).
const ERROR_RATE_FLOOR: f64 = 0.001;

/// Compare the load runs of `base` with those of `cand`.
pub fn compare_load(
    base: &[&LoadResult],
    cand: &[&LoadResult],
    settings: &CompareSettings,
) -> Comparison {
    let (b, c) = (Pooled::of(base), Pooled::of(cand));
    let watched =
        base.iter().any(|r| r.server.is_some()) && cand.iter().any(|r| r.server.is_some());
    let per_request = watched && has_cpu_per_request(base) && has_cpu_per_request(cand);
    let server = if watched { 2 } else { 0 } + usize::from(per_request);
    let database = if has_db(base) && has_db(cand) { 2 } else { 0 };
    let settings = &settings.per_row(QUANTILES.len() + 2 + server + database);
    let mut rows = percentile_rows(&b, &c, settings);
    rows.push(throughput_row(&b, &c, settings));
    rows.push(error_rate_row(&b, &c, settings));
    rows.extend(server_rows((base, cand), (b.noise, c.noise), settings));
    if per_request {
        let (vb, vc) = (cpu_per_request(base), cpu_per_request(cand));
        let metric = ("server CPU per request", Unit::Millis, FLOOR_SERVER_CPU);
        rows.push(server_mean_row(
            metric,
            (vb, vc),
            (b.noise, c.noise),
            settings,
        ));
    }
    if database > 0 {
        rows.extend(database_rows(base, cand, (b.noise, c.noise), settings));
    }
    let mut warnings = crate::load_mismatches(base, cand);
    for (side, results) in [("baseline", base), ("candidate", cand)] {
        let noises: Vec<_> = results.iter().map(|r| r.host_noise.as_ref()).collect();
        warnings.extend(crate::noise_warnings(side, &noises));
        let interrupted = results.iter().filter(|r| r.interrupted).count();
        if interrupted > 0 {
            warnings.push(format!(
                "{interrupted} {side} run(s) were interrupted: they cover only the part that ran"
            ));
        }
    }
    if b.noise.runs == 1 || c.noise.runs == 1 {
        warnings.push(
            "one run on a side: its intervals include run-to-run noise (on a 2-core VM two identical 5 s runs differed by up to 38%), so only large changes get a verdict; pool several runs a side (latest~4..latest) or run `plumb compare --ab URL_A URL_B`"
                .into(),
        );
    }
    if b.missing_histograms || c.missing_histograms {
        warnings.push(
            "a run was saved by an older plumb without per-second histograms: its percentiles are not compared"
                .into(),
        );
    }
    Comparison {
        rows,
        warnings,
        row_confidence: settings.confidence,
    }
}

/// One side's runs, pooled.
struct Pooled {
    /// Every second of every run, in order, as (bucket index, count) lists over `Buckets`.
    seconds: Vec<Vec<(u64, u64)>>,
    /// Whole seconds only (a run's cut-short last second dropped): requests and errors.
    full: Vec<(f64, f64)>,
    missing_histograms: bool,
    /// How many runs, and whether a host was busy: the side's run-to-run noise.
    noise: SideNoise,
}

impl Pooled {
    fn of(results: &[&LoadResult]) -> Pooled {
        let noises: Vec<_> = results.iter().map(|r| r.host_noise.as_ref()).collect();
        let mut pooled = Pooled {
            seconds: Vec::new(),
            full: Vec::new(),
            missing_histograms: false,
            noise: SideNoise::of(&noises),
        };
        for result in results {
            let series = &result.timeseries;
            for (i, w) in series.iter().enumerate() {
                // The last second is whole when the run lasted that long (a `-d 3s` run has 3).
                let whole = result.summary.duration_s >= series.len() as f64 - 0.01;
                let cut_short = i + 1 == series.len() && !whole;
                if !cut_short {
                    pooled.full.push((w.requests as f64, w.errors as f64));
                }
                pooled.push_histogram(w);
            }
        }
        pooled
    }

    fn push_histogram(&mut self, w: &SecondWindow) {
        let Some(text) = &w.latency_histogram else {
            if w.requests > w.errors {
                self.missing_histograms = true;
            }
            return;
        };
        match DurationHistogram::from_base64(text) {
            Ok(h) => self.seconds.push(
                h.buckets()
                    .into_iter()
                    .map(|(v, n)| (v.as_nanos() as u64, n))
                    .collect(),
            ),
            Err(_) => self.missing_histograms = true,
        }
    }

    /// The seconds merged into at most `MAX_BLOCKS` consecutive blocks, as dense count vectors
    /// over `values` (the sorted distinct bucket values of both sides).
    fn blocks(&self, values: &[u64]) -> Vec<Vec<(usize, u64)>> {
        let per_block = self.seconds.len().div_ceil(MAX_BLOCKS).max(1);
        self.seconds
            .chunks(per_block)
            .map(|chunk| {
                let mut merged: Vec<(usize, u64)> = chunk
                    .iter()
                    .flatten()
                    .map(|(v, n)| (values.binary_search(v).unwrap_or(0), *n))
                    .collect();
                merged.sort_unstable();
                merged.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        kept.1 += later.1;
                    }
                    same
                });
                merged
            })
            .collect()
    }
}

/// p50, p90, p95 and p99 of the pooled runs, judged on one bootstrap pass.
fn percentile_rows(b: &Pooled, c: &Pooled, settings: &CompareSettings) -> Vec<Row> {
    let mut values: Vec<u64> = b
        .seconds
        .iter()
        .chain(&c.seconds)
        .flatten()
        .map(|(v, _)| *v)
        .collect();
    values.sort_unstable();
    values.dedup();
    let (bb, cb) = (b.blocks(&values), c.blocks(&values));
    let all = |n: usize| (0..n).collect::<Vec<_>>();
    let base = quantiles_of(&bb, &all(bb.len()), &values);
    let cand = quantiles_of(&cb, &all(cb.len()), &values);
    let raw = percentile_intervals(&bb, &cb, &values, settings);
    let units = crate::bootstrap::units((bb.len(), cb.len()), Resampling::Blocks);
    let sides = Some((b.noise, c.noise));
    let widened = |i: usize, q: f64| {
        let floor = floor_sd(percentile_floor(q), sides);
        raw.and_then(|iv| widen_ratio(iv[i], units, floor, settings.confidence))
    };
    QUANTILES
        .iter()
        .enumerate()
        .map(|(i, (q, name))| {
            let problem = if b.missing_histograms || c.missing_histograms {
                Some("a run has no per-second histograms (saved by an older plumb)".to_string())
            } else {
                too_few_seconds((b.seconds.len(), c.seconds.len()))
                    .or_else(|| tail_too_thin(*q, name, base.count, cand.count))
            };
            let judged = match problem {
                Some(reason) => not_comparable(&reason),
                None => judge_ratio(
                    base.values[i],
                    cand.values[i],
                    widened(i, *q),
                    Direction::LowerIsBetter,
                    settings.tolerance,
                    (bb.len(), cb.len()),
                ),
            };
            row(
                &format!("latency {name}"),
                &format!("whole-run {name}"),
                Unit::Millis,
                Direction::LowerIsBetter,
                (base.values[i], cand.values[i]),
                judged,
                (b.seconds.len(), c.seconds.len()),
            )
        })
        .collect()
}

/// "The p99 of 60 requests is their maximum": a percentile needs requests above it.
fn tail_too_thin(q: f64, name: &str, base: u64, cand: u64) -> Option<String> {
    let needed = (MIN_TAIL / (1.0 - q)).ceil() as u64;
    let fewest = base.min(cand);
    (fewest < needed).then(|| {
        format!("{name} rests on too few requests ({fewest}; needs at least {needed} a side)")
    })
}

/// Quantiles (in ms) of the merged blocks at `indices`, and the number of requests.
struct Quantiles {
    values: [f64; 4],
    count: u64,
}

fn quantiles_of(blocks: &[Vec<(usize, u64)>], indices: &[usize], values: &[u64]) -> Quantiles {
    let mut dense = vec![0u64; values.len()];
    let mut total = 0u64;
    for &i in indices {
        for &(bucket, n) in &blocks[i] {
            dense[bucket] += n;
            total += n;
        }
    }
    let mut out = [0.0; 4];
    let mut seen = 0u64;
    let mut next = 0;
    for (bucket, n) in dense.iter().enumerate() {
        seen += n;
        while next < 4 && seen as f64 >= (QUANTILES[next].0 * total as f64).ceil().max(1.0) {
            out[next] = values[bucket] as f64 / 1e6;
            next += 1;
        }
        if next == 4 {
            break;
        }
    }
    Quantiles {
        values: out,
        count: total,
    }
}

/// Ratio intervals of the four quantiles, from one moving-block bootstrap.
fn percentile_intervals(
    bb: &[Vec<(usize, u64)>],
    cb: &[Vec<(usize, u64)>],
    values: &[u64],
    settings: &CompareSettings,
) -> Option<[(f64, f64); 4]> {
    if bb.is_empty() || cb.is_empty() {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let (mut bi, mut ci) = (Vec::new(), Vec::new());
    let resamples = settings.resamples.min(2000);
    let mut ratios: [Vec<f64>; 4] = Default::default();
    for _ in 0..resamples {
        resample(bb.len(), Resampling::Blocks, &mut rng, &mut bi);
        resample(cb.len(), Resampling::Blocks, &mut rng, &mut ci);
        let (qb, qc) = (quantiles_of(bb, &bi, values), quantiles_of(cb, &ci, values));
        for (k, kept) in ratios.iter_mut().enumerate() {
            let ratio = qc.values[k] / qb.values[k];
            if ratio.is_finite() {
                kept.push(ratio);
            }
        }
    }
    let alpha = 1.0 - settings.confidence;
    let mut out = [(0.0, 0.0); 4];
    for (k, r) in ratios.iter_mut().enumerate() {
        if r.len() < resamples / 2 {
            return None;
        }
        r.sort_by(f64::total_cmp);
        let at = |q: f64| r[((q * (r.len() - 1) as f64).round() as usize).min(r.len() - 1)];
        out[k] = (at(alpha / 2.0), at(1.0 - alpha / 2.0));
    }
    Some(out)
}

fn throughput_row(b: &Pooled, c: &Pooled, settings: &CompareSettings) -> Row {
    let requests = |p: &Pooled| p.full.iter().map(|w| w.0).collect::<Vec<_>>();
    let (rb, rc) = (requests(b), requests(c));
    let (base, cand) = (crate::bootstrap::mean(&rb), crate::bootstrap::mean(&rc));
    let samples = (rb.len(), rc.len());
    let judged = match too_few_seconds(samples) {
        Some(reason) => not_comparable(&reason),
        None => {
            let floor = floor_sd(FLOOR_THROUGHPUT, Some((b.noise, c.noise)));
            let iv = interval(
                samples,
                Resampling::Blocks,
                settings,
                (false, floor),
                |side, idx| mean_at(if side == Side::Baseline { &rb } else { &rc }, idx),
            );
            let direction = Direction::HigherIsBetter;
            judge_ratio(base, cand, iv, direction, settings.tolerance, samples)
        }
    };
    row(
        "throughput",
        "requests per whole second",
        Unit::PerSecond,
        Direction::HigherIsBetter,
        (base, cand),
        judged,
        samples,
    )
}

fn error_rate_row(b: &Pooled, c: &Pooled, settings: &CompareSettings) -> Row {
    let rate = |w: &[(f64, f64)], idx: &[usize]| {
        let (req, err) = idx
            .iter()
            .fold((0.0, 0.0), |(r, e), &i| (r + w[i].0, e + w[i].1));
        (req > 0.0).then(|| err / req)
    };
    let all = |w: &[(f64, f64)]| (0..w.len()).collect::<Vec<_>>();
    let base = rate(&b.full, &all(&b.full)).unwrap_or(0.0);
    let cand = rate(&c.full, &all(&c.full)).unwrap_or(0.0);
    let samples = (b.full.len(), c.full.len());
    let judged = match too_few_seconds(samples) {
        Some(reason) => not_comparable(&reason),
        None => {
            let iv = interval(
                samples,
                Resampling::Blocks,
                settings,
                (true, 0.0),
                |side, idx| {
                    rate(
                        if side == Side::Baseline {
                            &b.full
                        } else {
                            &c.full
                        },
                        idx,
                    )
                },
            );
            let tolerance = (settings.tolerance * base).max(ERROR_RATE_FLOOR);
            judge_difference(base, cand, iv, Direction::LowerIsBetter, tolerance, samples)
        }
    };
    row(
        "error rate",
        "errors / requests",
        Unit::Fraction,
        Direction::LowerIsBetter,
        (base, cand),
        judged,
        samples,
    )
}

/// The watched server's CPU and memory, when both sides watched one.
fn server_rows(
    (base, cand): (&[&LoadResult], &[&LoadResult]),
    sides: (SideNoise, SideNoise),
    settings: &CompareSettings,
) -> Vec<Row> {
    let points = |results: &[&LoadResult], f: fn(&plumb_schema::profile::ResourcePoint) -> f64| {
        results
            .iter()
            .filter_map(|r| r.server.as_ref())
            .flat_map(|s| s.resources.points.iter().skip(1).map(f))
            .collect::<Vec<f64>>()
    };
    if base.iter().all(|r| r.server.is_none()) || cand.iter().all(|r| r.server.is_none()) {
        return Vec::new();
    }
    let cpu = |p: &plumb_schema::profile::ResourcePoint| p.cpu_user_percent + p.cpu_system_percent;
    let rss = |p: &plumb_schema::profile::ResourcePoint| p.rss_bytes as f64;
    [
        (
            "server CPU",
            Unit::CorePercent,
            cpu as fn(&_) -> f64,
            FLOOR_SERVER_CPU,
        ),
        ("server memory", Unit::Bytes, rss, FLOOR_SERVER_MEMORY),
    ]
    .into_iter()
    .map(|(metric, unit, f, floor)| {
        let values = (points(base, f), points(cand, f));
        server_mean_row((metric, unit, floor), values, sides, settings)
    })
    .collect()
}

/// Whether every run watched its server and saved its CPU per request.
fn has_cpu_per_request(results: &[&LoadResult]) -> bool {
    results.iter().all(|r| {
        r.server
            .as_ref()
            .is_some_and(|s| s.cpu_ms_per_request.is_some())
            && r.summary.rps > 0.0
    })
}

/// The server's CPU ms per request at each of its readings: the reading's CPU over the run's
/// request rate, so that their mean is the run's CPU per request (the saved figure, up to the
/// readings' spacing) and resamples of readings carry its uncertainty.
fn cpu_per_request(results: &[&LoadResult]) -> Vec<f64> {
    results
        .iter()
        .filter_map(|r| Some((r.server.as_ref()?, r.summary.rps)))
        .flat_map(|(server, rps)| {
            server
                .resources
                .points
                .iter()
                .skip(1)
                .map(move |p| 10.0 * (p.cpu_user_percent + p.cpu_system_percent) / rps)
        })
        .collect()
}

/// A row of the mean of a server series over the run, judged as a ratio with the bootstrap of
/// the readings in blocks and the series' run-to-run floor.
fn server_mean_row(
    (metric, unit, floor): (&str, Unit, crate::widen::Floor),
    (vb, vc): (Vec<f64>, Vec<f64>),
    sides: (SideNoise, SideNoise),
    settings: &CompareSettings,
) -> Row {
    let (mb, mc) = (crate::bootstrap::mean(&vb), crate::bootstrap::mean(&vc));
    let samples = (vb.len(), vc.len());
    let judged = match too_few_seconds(samples) {
        Some(reason) => not_comparable(&reason),
        None => {
            let floor = floor_sd(floor, Some(sides));
            let how = (false, floor);
            let iv = interval(samples, Resampling::Blocks, settings, how, |side, idx| {
                mean_at(if side == Side::Baseline { &vb } else { &vc }, idx)
            });
            judge_ratio(
                mb,
                mc,
                iv,
                Direction::LowerIsBetter,
                settings.tolerance,
                samples,
            )
        }
    };
    row(
        metric,
        "mean over the run",
        unit,
        Direction::LowerIsBetter,
        (mb, mc),
        judged,
        samples,
    )
}

fn too_few_seconds((b, c): (usize, usize)) -> Option<String> {
    (b.min(c) < MIN_WINDOWS)
        .then(|| format!("too few seconds of load ({b} and {c}; at least {MIN_WINDOWS} a side)"))
}

fn row(
    metric: &str,
    statistic: &str,
    unit: Unit,
    direction: Direction,
    (baseline, candidate): (f64, f64),
    judged: Judged,
    samples: (usize, usize),
) -> Row {
    Row {
        metric: metric.to_string(),
        statistic: statistic.to_string(),
        unit,
        direction,
        baseline,
        candidate,
        change: judged.change,
        verdict: judged.verdict,
        // Every row but the error rate carries run-to-run noise, which more seconds of one run
        // do not shrink: no "more samples" estimate for those.
        more_samples: judged.more_samples.filter(|_| metric == "error rate"),
        samples,
    }
}

/// Whether every run has the database's figures (`plumb load --db`).
fn has_db(results: &[&LoadResult]) -> bool {
    !results.is_empty() && results.iter().all(|r| r.db.is_some())
}

/// Rows of the database's figures per request: statements (the number that proves an N+1
/// fix) and database time. Each column is the side's total over its total requests; the
/// interval spans the runs' own values (statements per request of a deterministic endpoint
/// barely vary), and database time's is widened by the run-to-run floor of server CPU.
fn database_rows(
    base: &[&LoadResult],
    cand: &[&LoadResult],
    sides: (SideNoise, SideNoise),
    settings: &CompareSettings,
) -> Vec<Row> {
    let queries = |d: &plumb_schema::db::LoadDbStats| d.queries_per_request;
    let time = |d: &plumb_schema::db::LoadDbStats| d.db_time_per_request_ms;
    let floor = floor_sd(FLOOR_SERVER_CPU, Some(sides));
    vec![
        database_row(
            ("DB queries per request", Unit::PerRequest, "statements"),
            queries,
            (base, cand),
            None,
            settings,
        ),
        database_row(
            ("DB time per request", Unit::Millis, "database time"),
            time,
            (base, cand),
            Some(floor),
            settings,
        ),
    ]
}

fn database_row(
    (metric, unit, what): (&str, Unit, &str),
    value: impl Fn(&plumb_schema::db::LoadDbStats) -> Option<f64>,
    (base, cand): (&[&LoadResult], &[&LoadResult]),
    floor: Option<f64>,
    settings: &CompareSettings,
) -> Row {
    let runs = |results: &[&LoadResult]| -> Vec<(f64, f64)> {
        results
            .iter()
            .filter_map(|r| {
                let db = r.db.as_ref()?;
                Some((value(db)?, db.requests as f64))
            })
            .collect()
    };
    let (vb, vc) = (runs(base), runs(cand));
    let pooled = |v: &[(f64, f64)]| {
        let requests: f64 = v.iter().map(|(_, n)| n).sum();
        v.iter().map(|(x, n)| x * n).sum::<f64>() / requests.max(1.0)
    };
    let (mb, mc) = (pooled(&vb), pooled(&vc));
    let samples = (vb.len(), vc.len());
    let range = |v: &[(f64, f64)]| {
        v.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), (x, _)| {
            (lo.min(*x), hi.max(*x))
        })
    };
    let ((bl, bh), (cl, ch)) = (range(&vb), range(&vc));
    let judged = if samples.0 == 0 || samples.1 == 0 || bl <= 0.0 {
        not_comparable("a side has no database figures")
    } else {
        let spread = (cl / bh, ch / bl);
        let interval = match floor {
            None => Some(spread),
            Some(floor) => widen_ratio(
                spread,
                samples.0.min(samples.1) as f64,
                floor,
                settings.confidence,
            ),
        };
        judge_ratio(
            mb,
            mc,
            interval,
            Direction::LowerIsBetter,
            settings.tolerance,
            samples,
        )
    };
    let statistic = format!("{what} / requests ({} and {} runs)", samples.0, samples.1);
    row(
        metric,
        &statistic,
        unit,
        Direction::LowerIsBetter,
        (mb, mc),
        judged,
        samples,
    )
}
