//! `plumb monitor`: probe a URL on a schedule against its SLOs until Ctrl-C/SIGTERM (or
//! `--for`), alerting on burn rates; its windows and alert phases are kept in the ledger so a
//! restart keeps the budget. `--rules FILE` writes the Prometheus rules and exits.

use crate::exit::Outcome;
use anyhow::Context;
use plumb_cli::MonitorArgs;
use plumb_ledger::{Ledger, MonitorAlert, MonitorBucket};
use plumb_monitor::{
    AlertEvent, Bucket, Millis, MonitorConfig, MonitorStatus, Observer, Phase, ProbeResult,
    SavedState, StateStore,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// With `--resource-above`: the host, and the `--watch-pid` processes (checked now).
fn watched_resources(
    config: &plumb_monitor::MonitorConfig,
) -> anyhow::Result<Option<plumb_monitor::SystemResources>> {
    if config.resource_above.is_none() {
        return Ok(None);
    }
    let selection = (!config.watch_pid.is_empty()).then(|| plumb_profile::ProcessSelection {
        pids: config.watch_pid.clone(),
        tree: config.watch_tree,
        cgroup: None,
    });
    let resources = plumb_monitor::SystemResources::new(selection.as_ref()).map_err(|e| {
        anyhow::anyhow!("--watch-pid: {e}\nhint: give the PID of a running process you may read")
    })?;
    Ok(Some(resources))
}

/// Run `plumb monitor`.
pub fn run(args: MonitorArgs) -> anyhow::Result<Outcome> {
    let plan = args.resolve()?;
    let config = plan.config;
    if let Some(path) = &plan.rules {
        return write_rules(&config, path);
    }
    let mut store = LedgerStore::open(&args)?;
    let stop = crate::interrupt::stop();
    let mut prober = plumb_monitor::HttpProber::new(&config)?.with_stop(stop.signal().clone());
    let shared = Arc::new(plumb_monitor::Shared::new(&config));
    let server = match config.listen {
        Some(addr) => Some(plumb_monitor::serve(addr, Arc::clone(&shared)).with_context(|| {
            format!("cannot listen on {addr}\nhint: pick a free port with --listen, or port 0 for any")
        })?),
        None => None,
    };
    if let Some(server) = &server {
        // The address is data: scripts read it (port 0 picks one).
        crate::output::stdout(format!("http://{}/\n", server.addr()).as_bytes())?;
    }
    crate::output::log(&format!(
        "plumb monitor: probing {} every {} against {}; Ctrl-C to stop",
        config.url,
        humantime::format_duration(config.every),
        config
            .slo
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut resources = watched_resources(&config)?;
    let flag = stop.flag();
    let mut log = Log::default();
    let summary = plumb_monitor::run(
        &config,
        plumb_monitor::Runtime {
            clock: &plumb_monitor::SystemClock,
            prober: &mut prober,
            store: &mut store,
            observer: &mut log,
            stop: &flag,
            shared: Some(shared),
            run_for: plan.run_for,
            resources: resources
                .as_mut()
                .map(|r| r as &mut dyn plumb_monitor::ResourceSource),
        },
    );
    if let Some(server) = server {
        server.shutdown();
    }
    let why = stop.reason().unwrap_or_else(|| "done".to_string());
    crate::output::log(&format!(
        "plumb monitor stopped ({why}) after {} probes; state saved to {}",
        summary.probes,
        store.ledger.path().display()
    ));
    if args.json {
        crate::output::stdout(
            format!("{}\n", serde_json::to_string_pretty(&summary.status)?).as_bytes(),
        )?;
    }
    Ok(Outcome::Passed)
}

/// `plumb load --prometheus-rw URL`: push the run's per-second figures; a failure is a warning.
pub fn push_load(url: &str, result: &plumb_schema::load::LoadResult, run_id: Option<&str>) {
    let run = run_id.unwrap_or(&result.started_at);
    let series = plumb_monitor::remote_write::load_series(result, run);
    match plumb_monitor::remote_write::push(url, &series) {
        Ok(()) => crate::output::log(&format!(
            "pushed {} seconds of the run to {url} (run=\"{run}\")",
            result.timeseries.len()
        )),
        Err(e) => crate::output::log(&format!(
            "warning: {e}\nhint: is it a Prometheus started with --web.enable-remote-write-receiver? \
             Its endpoint is /api/v1/write"
        )),
    }
}

fn write_rules(config: &MonitorConfig, path: &std::path::Path) -> anyhow::Result<Outcome> {
    let destination = crate::output::Destination::check("--rules", path, true)?;
    let text = plumb_monitor::rules::rules(config).context("cannot render the rules")?;
    destination.write(text.as_bytes())?;
    if !destination.is_stdout() {
        crate::output::log(&format!(
            "wrote {} (check it with: promtool check rules {})",
            path.display(),
            path.display()
        ));
    }
    Ok(Outcome::Passed)
}

/// The monitor's log lines on stderr.
#[derive(Default)]
struct Log {
    last_ok: Option<bool>,
}

impl Observer for Log {
    fn on_probe(&mut self, probe: &ProbeResult, status: &MonitorStatus) {
        // A line when the probe's outcome changes (and for the first), not for every probe.
        if self.last_ok == Some(probe.ok) {
            return;
        }
        self.last_ok = Some(probe.ok);
        let budget = status
            .slos
            .iter()
            .map(|s| match s.budget_remaining {
                Some(r) => format!("{} budget left {:.1}%", s.name, r * 100.0),
                None => format!("{} no data", s.name),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let what = match (&probe.error, probe.status) {
            (Some(e), _) => format!("DOWN: {e}"),
            (None, Some(code)) => {
                format!("up: {code} in {:.1}ms", probe.took.as_secs_f64() * 1000.0)
            }
            (None, None) => "up".to_string(),
        };
        crate::output::log(&format!(
            "{} probe {what}; {budget}",
            plumb_monitor::rfc3339(probe.at)
        ));
    }

    fn on_alert(&mut self, event: &AlertEvent) {
        crate::output::log(&event.line());
    }

    fn on_warning(&mut self, text: &str) {
        crate::output::log(&format!("warning: {text}"));
    }
}

/// The monitor's state in the ledger.
struct LedgerStore {
    ledger: Ledger,
}

impl LedgerStore {
    fn open(args: &MonitorArgs) -> anyhow::Result<LedgerStore> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let path = plumb_ledger::locate(args.ledger.ledger.as_deref(), &cwd);
        let ledger = Ledger::open(&path).map_err(|e| {
            let hint = e.hint();
            anyhow::anyhow!("{e}\nhint: {hint}")
        })?;
        Ok(LedgerStore { ledger })
    }
}

impl StateStore for LedgerStore {
    fn load(&mut self, monitor: &str) -> Result<SavedState, String> {
        let (buckets, alerts) = self
            .ledger
            .monitor_state(monitor)
            .map_err(|e| e.to_string())?;
        let mut saved = SavedState::default();
        for b in buckets {
            saved.series.entry(b.series).or_default().push(Bucket {
                start: b.start,
                good: b.good,
                total: b.total,
            });
        }
        for a in alerts {
            // A state this build cannot read starts inactive.
            if let Ok(state) = serde_json::from_str::<(Phase, String)>(&a.state) {
                saved.alerts.insert(a.alert, state);
            }
        }
        Ok(saved)
    }

    fn save(
        &mut self,
        monitor: &str,
        changes: &SavedState,
        prune: &BTreeMap<String, Millis>,
    ) -> Result<(), String> {
        let buckets: Vec<MonitorBucket> = changes
            .series
            .iter()
            .flat_map(|(series, buckets)| {
                buckets.iter().map(move |b| MonitorBucket {
                    series: series.clone(),
                    start: b.start,
                    good: b.good,
                    total: b.total,
                })
            })
            .collect();
        let alerts: Vec<MonitorAlert> = changes
            .alerts
            .iter()
            .map(|(alert, state)| MonitorAlert {
                alert: alert.clone(),
                state: serde_json::to_string(state).unwrap_or_default(),
            })
            .collect();
        let prune: Vec<(String, u64)> = prune.iter().map(|(s, t)| (s.clone(), *t)).collect();
        self.ledger
            .save_monitor_state(monitor, &buckets, &alerts, &prune)
            .map_err(|e| e.to_string())
    }
}
