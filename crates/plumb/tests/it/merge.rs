//! `plumb merge` and `plumb k8s render` from the outside: real segment runs as separate
//! `plumb load` processes against a local target, merged exactly; refusals of results that are
//! not one test's segments; the rendered Indexed Job parsed by kubectl and validated against
//! Kubernetes' JSON Schema for a Job.

use crate::support::{plumb, run, stderr, stdout};
use plumb_schema::load::LoadResult;
use plumb_stats::DurationHistogram;
use plumb_target::TargetSettings;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn target() -> plumb_target::RunningTarget {
    plumb_target::spawn(TargetSettings::default(), "127.0.0.1:0".parse().unwrap(), 1).unwrap()
}

/// `plumb load ARGS --segment i/N --start-at T --json DIR/segment-i.json` for every i at once,
/// with one absolute start 2 s ahead; the files, in index order.
fn segments(dir: &Path, n: usize, args: &[&str]) -> Vec<PathBuf> {
    let at = SystemTime::now() + Duration::from_secs(2);
    let at = format!(
        "@{:.3}",
        at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
    );
    let files: Vec<PathBuf> = (0..n)
        .map(|i| dir.join(format!("segment-{i}.json")))
        .collect();
    let children: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let segment = format!("{i}/{n}");
            plumb()
                .args(["load"])
                .args(args)
                .args([
                    "-t",
                    "1",
                    "-q",
                    "--segment",
                    &segment,
                    "--start-at",
                    &at,
                    "--json",
                ])
                .arg(file)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    files
}

fn read(path: &Path) -> LoadResult {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hist(text: &str) -> DurationHistogram {
    DurationHistogram::from_base64(text).unwrap()
}

/// Four closed-model segments of `-c 8 -n 4000`, run once for the tests that need any segments.
fn closed() -> &'static (tempfile::TempDir, Vec<PathBuf>) {
    static RUN: OnceLock<(tempfile::TempDir, Vec<PathBuf>)> = OnceLock::new();
    RUN.get_or_init(|| {
        let t = target();
        let dir = tempfile::tempdir().unwrap();
        let files = segments(dir.path(), 4, &[&t.url("/"), "-c", "8", "-n", "4000"]);
        (dir, files)
    })
}

fn paths(files: &[PathBuf]) -> Vec<&str> {
    files.iter().map(|f| f.to_str().unwrap()).collect()
}

#[test]
fn merge_of_four_open_segments_is_the_whole_schedule_and_judges_thresholds_globally() {
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    let url = t.url("/");
    let args = [
        &url,
        "--rate",
        "2000",
        "-d",
        "3s",
        "--threshold",
        "http_reqs: count<2000",
    ];
    let files = segments(dir.path(), 4, &args);
    let parts: Vec<LoadResult> = files.iter().map(|f| read(f)).collect();
    for (i, part) in parts.iter().enumerate() {
        let s = &part.summary;
        assert_eq!(
            s.requests + s.in_flight_at_end + s.missed_sends,
            1500,
            "segment {i}"
        );
        assert_eq!(
            part.thresholds[0].status,
            plumb_stats::ThresholdStatus::Passed
        );
    }
    let merged_file = dir.path().join("merged.json");
    let ledger = dir.path().join("ledger.db");
    let out = plumb()
        .args(["merge", "--json", merged_file.to_str().unwrap(), "--ledger"])
        .arg(&ledger)
        .args(paths(&files))
        .env_remove("PLUMB_NO_SAVE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("FAIL    http_reqs: count<2000"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("segments   4 merged"),
        "{}",
        stdout(&out)
    );
    let merged = read(&merged_file);
    let s = &merged.summary;
    let sum = |f: fn(&LoadResult) -> u64| parts.iter().map(f).sum::<u64>();
    assert_eq!(s.requests + s.in_flight_at_end + s.missed_sends, 6000);
    assert_eq!(s.requests, sum(|p| p.summary.requests));
    assert_eq!(s.requested_rps, Some(2000.0));
    assert_eq!(merged.thresholds[0].observed, Some(s.requests as f64));
    let mut expected = DurationHistogram::new();
    for part in &parts {
        expected.merge(&hist(&part.histograms.latency));
    }
    assert_eq!(
        hist(&merged.histograms.latency).buckets(),
        expected.buckets()
    );
    assert_eq!(s.latency_ms.p99, plumb_merge::percentiles(&expected).p99);
    let windows: u64 = merged.timeseries.iter().map(|w| w.requests).sum();
    assert_eq!(
        windows,
        sum(|p| p.timeseries.iter().map(|w| w.requests).sum())
    );
    let history = run(&[
        "history",
        "--label",
        "segments=4",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    assert_eq!(
        stdout(&history).matches("req/s").count(),
        1,
        "{}",
        stdout(&history)
    );
}

#[test]
fn merge_of_closed_segments_sends_exactly_n_on_all_connections() {
    let (_dir, files) = closed();
    let out = run(&[&["merge", "-o", "json"][..], &paths(files)].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged: LoadResult = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(merged.summary.requests, 4000);
    assert_eq!(merged.summary.connections_opened, 8);
    let segments = merged.merged_from.unwrap();
    assert_eq!(
        segments.iter().map(|s| s.index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
}

/// `plumb merge FILES` exits 2 with `message` and a hint.
fn refused(files: &[&str], message: &str) {
    let out = run(&[&["merge"][..], files].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(message), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn merge_refuses_what_is_not_one_tests_segments() {
    let (_dir, files) = closed();
    let f = paths(files);
    refused(&[f[0], f[1], f[3]], "segment of 4 missing: 2");
    refused(
        &[f[0], f[1], f[1], f[2], f[3]],
        &format!("segment 1 is given twice: {} and {}", f[1], f[1]),
    );
    let dir = tempfile::tempdir().unwrap();
    let edited = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f[2]).unwrap()).unwrap();
        edit(&mut value);
        let path = dir.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let other = edited("other.json", &|v| v["settings"]["connections"] = 16.into());
    refused(&[f[0], f[1], &other, f[3]], &format!("{other} is not a segment of the same test as {}: its settings differ: connections is 16, there 8", f[0]));
    let whole = edited("whole.json", &|v| {
        v.as_object_mut().unwrap().retain(|k, _| k != "segment")
    });
    refused(
        &[f[0], &whole],
        &format!("{whole} is not a segment result: it was run without --segment"),
    );
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not json").unwrap();
    refused(
        &[f[0], text.to_str().unwrap()],
        &format!("{} is not a plumb result", text.display()),
    );
    refused(
        &[f[0], "/nonexistent/segment.json"],
        "cannot read /nonexistent/segment.json",
    );
}

/// The JSON kubectl makes of a YAML file with no cluster (`label --local`), or None without kubectl.
fn kubectl_json(file: &Path) -> Option<serde_json::Value> {
    let out = match std::process::Command::new("kubectl")
        .args([
            "label",
            "--local",
            "-o",
            "json",
            "plumb.dev/parsed=yes",
            "-f",
        ])
        .arg(file)
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            eprintln!("SKIPPED: kubectl is not installed, so job.yaml is not parsed by kubectl");
            return None;
        }
    };
    assert!(out.status.success(), "kubectl: {}", stderr(&out));
    let mut job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    job["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("plumb.dev/parsed");
    Some(job)
}

#[test]
fn k8s_render_writes_an_indexed_job_kubernetes_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "k8s",
        "render",
        "--segments",
        "4",
        "--image",
        "ghcr.io/acme/plumb:0.1",
        "--name",
        "shop",
        "-o",
        dir.path().to_str().unwrap(),
        "--",
        "http://shop:8080/",
        "--rate",
        "100",
        "-d",
        "30s",
        "--threshold",
        "http_req_failed: rate<0.01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("4 segments starting at "),
        "{}",
        stdout(&out)
    );
    let yaml = std::fs::read_to_string(dir.path().join("job.yaml")).unwrap();
    assert!(
        yaml.contains("# Every segment starts its load at "),
        "{yaml}"
    );
    let gather = std::fs::read_to_string(dir.path().join("gather.sh")).unwrap();
    assert!(
        gather.contains("--threshold 'http_req_failed: rate<0.01'"),
        "{gather}"
    );
    let Some(job) = kubectl_json(&dir.path().join("job.yaml")) else {
        return;
    };
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/k8s/job-batch-v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&job)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let spec = &job["spec"];
    assert_eq!(
        (spec["completions"].as_u64(), spec["parallelism"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["backoffLimitPerIndex"], 0);
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
    let args: Vec<&str> = spec["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args[..6],
        ["load", "http://shop:8080/", "--rate", "100", "-d", "30s"]
    );
    assert_eq!(args[6..8], ["--segment", "auto/4"]);
    assert_eq!(args[10..], ["-o", "json", "-q"]);
    let start = humantime::parse_rfc3339(args[9]).unwrap();
    let ahead = start.duration_since(SystemTime::now()).unwrap();
    assert!(
        ahead > Duration::from_secs(100) && ahead <= Duration::from_secs(120),
        "{ahead:?}"
    );
}

#[test]
fn k8s_render_refuses_bad_input_with_a_hint() {
    for (args, message) in [
        (
            &["--segments", "0", "--image", "i", "--", "http://x/"][..],
            "--segments",
        ),
        (
            &["--segments", "10001", "--image", "i", "--", "http://x/"][..],
            "--segments",
        ),
        (&["--segments", "2", "--", "http://x/"][..], "--image"),
        (
            &[
                "--segments",
                "2",
                "--image",
                "i",
                "-f",
                "/nonexistent/plumb.toml",
                "normal",
            ][..],
            "/nonexistent/plumb.toml",
        ),
        (
            &[
                "--segments",
                "2",
                "--image",
                "i",
                "--",
                "http://x/",
                "--abort-on-fail",
            ][..],
            "--abort-on-fail",
        ),
    ] {
        let out = run(&[&["k8s", "render"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(message) && err.contains("hint:"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn k8s_render_with_a_coordinator_points_the_segments_at_its_service() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "k8s",
        "render",
        "--segments",
        "3",
        "--image",
        "plumb:0.1",
        "--name",
        "shop",
        "--coordinator",
        "--abort-on-fail",
        "-o",
        dir.path().to_str().unwrap(),
        "--",
        "http://shop:8080/",
        "--rate",
        "900",
        "-d",
        "1m",
        "--threshold",
        "http_req_duration: p(99)<300ms",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("started together by the coordinator"),
        "{}",
        stdout(&out)
    );
    let job = std::fs::read_to_string(dir.path().join("job.yaml")).unwrap();
    assert!(job.contains("shop-coordinator.default.svc:7070"), "{job}");
    assert!(!job.contains("--start-at"), "{job}");
    let coordinator = dir.path().join("coordinator.yaml");
    let text = std::fs::read_to_string(&coordinator).unwrap();
    assert!(
        text.contains("--abort-on-fail") && text.contains("p(99)<300ms"),
        "{text}"
    );
    let Some(items) = kubectl_documents(&coordinator) else {
        return;
    };
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["Pod", "Service"]);
    let pod = &items[0];
    let args: Vec<&str> = pod["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&args[..3], &["coordinate", "--segments", "3"]);
    assert_eq!(
        items[1]["spec"]["selector"]["plumb.dev/coordinator"],
        "shop"
    );
    // Without --coordinator, --abort-on-fail is refused: a segment would stop alone.
    let out = run(&[
        "k8s",
        "render",
        "--segments",
        "2",
        "--image",
        "p:1",
        "-o",
        dir.path().to_str().unwrap(),
        "--",
        "http://shop:8080/",
        "--abort-on-fail",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--coordinator"), "{}", stderr(&out));
}

/// Several documents parsed by kubectl with no cluster: one JSON object each.
fn kubectl_documents(file: &Path) -> Option<Vec<serde_json::Value>> {
    let out = std::process::Command::new("kubectl")
        .args([
            "label",
            "--local",
            "-o",
            "json",
            "plumb.dev/parsed=yes",
            "-f",
        ])
        .arg(file)
        .output()
        .map_err(|_| {
            eprintln!("SKIPPED: kubectl is not installed, so coordinator.yaml is not parsed")
        })
        .ok()?;
    assert!(out.status.success(), "kubectl: {}", stderr(&out));
    let documents = serde_json::Deserializer::from_slice(&out.stdout).into_iter();
    Some(documents.map(Result::unwrap).collect())
}

#[test]
fn k8s_render_refuses_a_split_the_pods_would_refuse_and_warns_of_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let render = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "k8s",
            "render",
            "--segments",
            "3",
            "--image",
            "p:1",
            "-o",
            out_dir,
            "--",
            url,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let out = render("http://shop:8080/", &["-c", "2", "-d", "30s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("2 connections cannot be split into 3 segments"),
        "{}",
        stderr(&out)
    );
    let out = render("http://shop:8080/", &["-n", "2", "-c", "9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("-n 2 cannot be split into 3 segments"),
        "{}",
        stderr(&out)
    );
    let out = render("http://127.0.0.1:8080/", &["-c", "9", "-d", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("is on loopback"), "{}", stderr(&out));
    let out = render("http://shop:8080/", &["-c", "9", "-d", "30s"]);
    assert!(!stderr(&out).contains("loopback"), "{}", stderr(&out));
}

/// gather.sh against a stand-in for kubectl that plays a failed job (a fleet its coordinator
/// aborted): it still fetches each index's result from its pod's log and merges them.
#[test]
fn gather_merges_the_results_of_a_failed_job() {
    let nginx = plumb_test::Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let at = SystemTime::now() + Duration::from_secs(2);
    let at = format!(
        "@{:.3}",
        at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
    );
    let pods: Vec<_> = (0..2)
        .map(|index| {
            plumb()
                .args([
                    "load",
                    &nginx.url(),
                    "-q",
                    "-c",
                    "2",
                    "-n",
                    "40",
                    "-o",
                    "json",
                ])
                .args(["--segment", &format!("{index}/2"), "--start-at", &at])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (index, pod) in pods.into_iter().enumerate() {
        let out = pod.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // A pod's log: stderr's lines around the JSON result.
        let log = format!("segment {index}/2: starting\n{}done\n", stdout(&out));
        std::fs::write(logs.join(format!("pod-{index}")), log).unwrap();
    }
    let out_dir = dir.path().join("k8s");
    let out = run(&[
        "k8s",
        "render",
        "--segments",
        "2",
        "--image",
        "p:1",
        "--coordinator",
        "-o",
        out_dir.to_str().unwrap(),
        "--",
        "http://shop:8080/",
        "-c",
        "2",
        "-n",
        "40",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let kubectl = format!(
        "#!/bin/sh\n\
         case \"$*\" in\n\
         *'get job/'*) echo 'FailureTarget Failed' ;;\n\
         *'get pods'*job-completion-index=0*) printf pod-0 ;;\n\
         *'get pods'*job-completion-index=1*) printf pod-1 ;;\n\
         *'logs pod-'*) cat \"{}/$4\" ;;\n\
         *) echo \"unexpected kubectl $*\" >&2; exit 9 ;;\n\
         esac\n",
        logs.display()
    );
    let fake = bin.join("kubectl");
    std::fs::write(&fake, kubectl).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_plumb"), bin.join("plumb")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let merged = dir.path().join("merged.json");
    let out = std::process::Command::new("sh")
        .arg(out_dir.join("gather.sh"))
        .args(["--json", merged.to_str().unwrap(), "--no-save"])
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("job/plumb-load failed"),
        "{}",
        stderr(&out)
    );
    let result: LoadResult =
        serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(result.summary.requests, 40);
    assert_eq!(result.merged_from.map(|m| m.len()), Some(2));
}
