//! `plumb page URL`: the flags of a page-load measurement, each bounded where it is parsed, and
//! their resolution into `plumb_page::PageSettings`.

use crate::parse::{parse_duration_at_most, CliError};
use crate::LedgerArgs;
use plumb_page::{PageSettings, Preset, Throttle};
use std::path::PathBuf;
use std::time::Duration;

/// Most loads one `plumb page` may make.
pub const MAX_PAGE_RUNS: u64 = 1000;
/// Longest `--timeout` of one load.
const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Longest `--settle` and custom `--latency`.
const MAX_SETTLE: Duration = Duration::from_secs(60);
/// Fastest custom throughput, kbit/s (10 Gbit/s).
const MAX_KBPS: f64 = 10_000_000.0;
/// Largest CPU slowdown.
const MAX_CPU_SLOWDOWN: f64 = 100.0;

/// How `plumb page` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PageFormat {
    /// A summary for a terminal.
    Text,
    /// Markdown, for a PR comment.
    Markdown,
    /// The versioned JSON result.
    Json,
    /// The self-contained HTML report.
    Html,
}

/// `--throttle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThrottleArg {
    /// No throttling (a 1350×940 desktop screen).
    None,
    /// Lighthouse's mobile: Slow 4G (562.5 ms, 1474.56/675 kbit/s) and CPU 4×, a phone screen.
    Mobile,
    /// Lighthouse's desktop: no network or CPU throttling, a 1350×940 screen.
    Desktop,
    /// --latency, --download, --upload and --cpu-slowdown as given.
    Custom,
}

/// Arguments of `plumb page`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  plumb page http://127.0.0.1:8080/ --runs 9\n  plumb page http://127.0.0.1:8080/ --throttle mobile --threshold 'page_lcp: p(75)<2500ms'\n  plumb page http://127.0.0.1:8080/ --throttle custom --latency 100ms --download 5000 --cpu-slowdown 2\n  plumb page http://127.0.0.1:8080/ --har page.har -o html > page.html\n\nEach load runs in a fresh headless Chromium with a fresh profile. Metrics: page_ttfb, page_fcp,\npage_lcp, page_cls, page_tbt, page_dcl, page_load (ms; CLS has no unit), page_weight (bytes),\npage_requests; thresholds reduce them over the loads: 'page_lcp: p(75)<2500ms'."
)]
pub struct PageArgs {
    /// The page to load (http:// or https://)
    pub url: String,

    /// Loads, each in a fresh browser
    #[arg(short = 'r', long, value_name = "N", default_value_t = 5, value_parser = parse_runs)]
    pub runs: u32,

    /// The Chromium or Chrome to run [default: chromium, chromium-browser, google-chrome on PATH]
    #[arg(long, value_name = "PATH")]
    pub browser: Option<PathBuf>,

    /// Network and CPU throttling
    #[arg(long, value_enum, default_value_t = ThrottleArg::None)]
    pub throttle: ThrottleArg,

    /// With --throttle custom: latency added to every request
    #[arg(long, value_name = "DURATION", value_parser = parse_latency)]
    pub latency: Option<Duration>,

    /// With --throttle custom: download throughput, kbit/s
    #[arg(long, value_name = "KBPS", value_parser = parse_kbps)]
    pub download: Option<f64>,

    /// With --throttle custom: upload throughput, kbit/s
    #[arg(long, value_name = "KBPS", value_parser = parse_kbps)]
    pub upload: Option<f64>,

    /// With --throttle custom: CPU slowdown factor (1 to 100)
    #[arg(long, value_name = "FACTOR", value_parser = parse_slowdown)]
    pub cpu_slowdown: Option<f64>,

    /// The longest one load may take to fire its load event
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// How long the network and main thread must stay quiet after load before a load ends
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_settle)]
    pub settle: Duration,

    /// A condition on a page metric over the loads, in k6's syntax (repeatable)
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// A threshold whose metric has no data passes instead of failing
    #[arg(long)]
    pub allow_no_data: bool,

    /// Also write every load's requests as HAR 1.2 to FILE
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,

    /// Also write the JSON result to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Output format on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = PageFormat::Text)]
    pub output: PageFormat,

    /// Measure the page while this load scenario of the plan file runs against the backend
    /// (started 2 s before the first page load, stopped after the last)
    #[arg(long, value_name = "SCENARIO")]
    pub under: Option<String>,

    /// The plan file --under reads [default: plumb.toml here or above]
    #[arg(long, value_name = "FILE", requires = "under")]
    pub plan: Option<PathBuf>,

    /// Saving the run to the ledger.
    #[command(flatten)]
    pub save: LedgerArgs,
}

impl PageArgs {
    /// The engine's settings; the URL and the custom throttling are checked here.
    pub fn resolve(&self) -> Result<PageSettings, CliError> {
        check_url(&self.url)?;
        let mut settings = PageSettings::new(&self.url);
        settings.runs = self.runs;
        settings.browser.clone_from(&self.browser);
        settings.timeout = self.timeout;
        settings.settle = self.settle;
        settings.throttle = self.throttle()?;
        Ok(settings)
    }

    fn throttle(&self) -> Result<Throttle, CliError> {
        let custom = [
            ("--latency", self.latency.is_some()),
            ("--download", self.download.is_some()),
            ("--upload", self.upload.is_some()),
            ("--cpu-slowdown", self.cpu_slowdown.is_some()),
        ];
        if self.throttle != ThrottleArg::Custom {
            if let Some((flag, _)) = custom.iter().find(|(_, given)| *given) {
                return Err(CliError::flag(
                    flag,
                    "given",
                    "only applies with --throttle custom",
                    "add --throttle custom, or use --throttle mobile|desktop alone",
                ));
            }
        }
        Ok(match self.throttle {
            ThrottleArg::None => Throttle::none(),
            ThrottleArg::Mobile => Throttle::mobile(),
            ThrottleArg::Desktop => Throttle::desktop(),
            ThrottleArg::Custom => Throttle {
                preset: Preset::Custom,
                latency_ms: self.latency.map_or(0.0, |d| d.as_secs_f64() * 1e3),
                download_kbps: self.download.unwrap_or(0.0),
                upload_kbps: self.upload.unwrap_or(0.0),
                cpu_slowdown: self.cpu_slowdown.unwrap_or(1.0),
            },
        })
    }
}

/// A page URL: http or https, with a host.
fn check_url(url: &str) -> Result<(), CliError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && url.len() <= 8192 => Ok(()),
        _ => Err(CliError::flag(
            "URL",
            url,
            "must be an http:// or https:// URL with a host (at most 8192 bytes)",
            "e.g. plumb page http://127.0.0.1:8080/",
        )),
    }
}

fn parse_runs(text: &str) -> Result<u32, String> {
    crate::parse::parse_whole("--runs", text, 1..=MAX_PAGE_RUNS, "e.g. --runs 9")
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    positive("--timeout", text, MAX_TIMEOUT)
}

fn parse_settle(text: &str) -> Result<Duration, String> {
    parse_duration_at_most("--settle", text, MAX_SETTLE).map_err(CliError::for_clap)
}

fn parse_latency(text: &str) -> Result<Duration, String> {
    parse_duration_at_most("--latency", text, MAX_SETTLE).map_err(CliError::for_clap)
}

fn positive(flag: &str, text: &str, max: Duration) -> Result<Duration, String> {
    let value = parse_duration_at_most(flag, text, max).map_err(CliError::for_clap)?;
    if value.is_zero() {
        return Err(format!("{flag} must be above 0\nhint: e.g. {flag} 30s"));
    }
    Ok(value)
}

fn parse_kbps(text: &str) -> Result<f64, String> {
    number(
        text,
        1.0..=MAX_KBPS,
        "a throughput in kbit/s",
        "e.g. --download 1600",
    )
}

fn parse_slowdown(text: &str) -> Result<f64, String> {
    number(
        text,
        1.0..=MAX_CPU_SLOWDOWN,
        "a slowdown factor",
        "e.g. --cpu-slowdown 4",
    )
}

fn number(
    text: &str,
    range: std::ops::RangeInclusive<f64>,
    what: &str,
    example: &str,
) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(format!(
            "must be {what} from {} to {}\nhint: {example}",
            range.start(),
            range.end()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        page: PageArgs,
    }

    fn parse(args: &[&str]) -> Result<PageArgs, String> {
        let mut all = vec!["plumb"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all)
            .map(|w| w.page)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flags_are_bounded_and_custom_throttling_needs_custom() {
        let args = parse(&["http://127.0.0.1/", "--throttle", "mobile"]).unwrap();
        assert_eq!(args.resolve().unwrap().throttle, Throttle::mobile());
        let error = parse(&["http://127.0.0.1/", "--runs", "0"]).unwrap_err();
        assert!(error.contains("at most 1000"), "{error}");
        let error = parse(&["http://127.0.0.1/", "--timeout", "0s"]).unwrap_err();
        assert!(error.contains("hint:"), "{error}");
        let error = parse(&["http://127.0.0.1/", "--cpu-slowdown", "1000"]).unwrap_err();
        assert!(error.contains("from 1 to 100"), "{error}");
        let args = parse(&["http://127.0.0.1/", "--latency", "100ms"]).unwrap();
        let error = args.resolve().unwrap_err().to_string();
        assert!(error.contains("--throttle custom"), "{error}");
        let args = parse(&["ftp://x/"]).unwrap();
        assert!(args.resolve().unwrap_err().to_string().contains("http://"));
        let args = parse(&[
            "http://127.0.0.1/",
            "--throttle",
            "custom",
            "--latency",
            "100ms",
            "--download",
            "5000",
        ])
        .unwrap();
        let throttle = args.resolve().unwrap().throttle;
        assert_eq!(
            (throttle.latency_ms, throttle.download_kbps),
            (100.0, 5000.0)
        );
    }
}
