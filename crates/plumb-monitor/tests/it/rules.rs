//! The generated rules pass the real `promtool check rules`, and `promtool test rules` fires
//! the page and ticket burn-rate alerts on a synthetic probe series: two hours up, ten minutes
//! down, then up again (Debian's prometheus package; the test fails loudly without it).

use plumb_monitor::MonitorConfig;
use std::path::Path;
use std::process::Command;

fn promtool(args: &[&str], dir: &Path) -> String {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect(
            "promtool is not installed: apt-get install prometheus (Debian's package has promtool)",
        );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

fn write_rules(dir: &Path) -> MonitorConfig {
    let mut config = MonitorConfig::new("http://127.0.0.1:9/health");
    config.name = Some("shop".to_string());
    config.slo = vec![
        "availability 99.9% 30d".parse().unwrap(),
        "latency 99% < 300ms 30d".parse().unwrap(),
    ];
    let text = plumb_monitor::rules::rules(&config).unwrap();
    std::fs::write(dir.join("rules.yml"), text).unwrap();
    config
}

#[test]
fn promtool_accepts_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let out = promtool(&["check", "rules", "rules.yml"], dir.path());
    // Per SLO: 7 distinct windows (6h is in two pairs) + the period's, 6 meta recordings,
    // 2 alerts.
    assert!(out.contains("SUCCESS: 32 rules found"), "{out}");
}

const LABELS: &str = "sloth_id: shop-availability, sloth_service: shop, sloth_slo: availability";

/// Probes every 30 s: 2 per minute; failed from minute 121 to 130. The page alert resolves
/// once its 30m window is clean, the ticket once its 6h window is (after minute 490), as
/// the native engine does (alerts.rs).
const UNIT_TESTS: &str = r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
- interval: 1m
  input_series:
  - series: 'plumb_probes_total{monitor="shop",result="ok"}'
    values: '0+2x120 240x9 240+2x470'
  - series: 'plumb_probes_total{monitor="shop",result="fail"}'
    values: '0x120 2+2x9 20x470'
  alert_rule_test:
  - {eval_time: 100m, alertname: SloBurnPage, exp_alerts: []}
  - {eval_time: 100m, alertname: SloBurnTicket, exp_alerts: []}
  - eval_time: 125m
    alertname: SloBurnPage
    exp_alerts:
    - exp_labels: {LABELS, severity: page, sloth_severity: page}
      exp_annotations: {summary: "availability of shop-availability is burning its error budget too fast (page)", title: "availability 99.9% 30d"}
  - eval_time: 125m
    alertname: SloBurnTicket
    exp_alerts:
    - exp_labels: {LABELS, severity: ticket, sloth_severity: ticket}
      exp_annotations: {summary: "availability of shop-availability is burning its error budget too fast (ticket)", title: "availability 99.9% 30d"}
  - {eval_time: 200m, alertname: SloBurnPage, exp_alerts: []}
  - eval_time: 200m
    alertname: SloBurnTicket
    exp_alerts:
    - exp_labels: {LABELS, severity: ticket, sloth_severity: ticket}
      exp_annotations: {summary: "availability of shop-availability is burning its error budget too fast (ticket)", title: "availability 99.9% 30d"}
  - {eval_time: 500m, alertname: SloBurnTicket, exp_alerts: []}
  promql_expr_test:
  - expr: slo:objective:ratio{sloth_id="shop-availability"}
    eval_time: 10m
    exp_samples:
    - labels: 'slo:objective:ratio{sloth_id="shop-availability", sloth_service="shop", sloth_slo="availability"}'
      value: 0.999
"#;

#[test]
fn promtool_unit_tests_fire_and_resolve_the_burn_rate_alerts() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    std::fs::write(
        dir.path().join("tests.yml"),
        UNIT_TESTS.replace("LABELS", LABELS),
    )
    .unwrap();
    let out = promtool(&["test", "rules", "tests.yml"], dir.path());
    assert!(out.contains("SUCCESS"), "{out}");
}
