//! The Indexed Job of a split load test: N pods at once (`parallelism` = `completions` = N),
//! pod i running `plumb load ... --segment auto/N` (its index from `JOB_COMPLETION_INDEX`) at
//! one absolute `--start-at`, no pod ever retried (`backoffLimitPerIndex: 0`, `restartPolicy:
//! Never`: a segment run again later would not be part of the same test), spread over nodes by a
//! preferred pod anti-affinity, and each printing its JSON result on stdout for gather.sh.

use plumb_cli::RenderPlan;
use serde_json::{json, Value};
use std::time::Duration;

/// The label every pod of the job carries, which the anti-affinity spreads.
pub const JOB_LABEL: &str = "plumb.dev/job";

/// The label of the coordinator's pod, which its Service selects.
pub const COORDINATOR_LABEL: &str = "plumb.dev/coordinator";

/// The port the coordinator listens on.
pub const COORDINATOR_PORT: u16 = 7070;

/// How long past the planned end the job may run before Kubernetes stops it.
pub const GRACE: Duration = Duration::from_secs(300);

/// The manifest as a value: validated against Kubernetes' schema in the tests, and written as YAML.
pub fn job(plan: &RenderPlan, start_at: &str) -> Value {
    let mut spec = json!({
        "completionMode": "Indexed",
        "completions": plan.segments,
        "parallelism": plan.segments,
        "backoffLimitPerIndex": 0,
        "ttlSecondsAfterFinished": 86_400,
        "template": pod_template(plan, start_at),
    });
    if let Some(planned) = plan.planned {
        let deadline = start_bound(plan) + planned + GRACE;
        spec["activeDeadlineSeconds"] = json!(deadline.as_secs());
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": plan.name,
            "namespace": plan.namespace,
            "labels": labels(plan),
            "annotations": annotations(plan, start_at),
        },
        "spec": spec,
    })
}

fn annotations(plan: &RenderPlan, start_at: &str) -> Value {
    let mut annotations = json!({ "plumb.dev/segments": plan.segments.to_string() });
    if plan.coordinator {
        annotations["plumb.dev/coordinator"] = json!(coordinator_address(plan));
    } else {
        annotations["plumb.dev/start-at"] = json!(start_at);
    }
    annotations
}

fn labels(plan: &RenderPlan) -> Value {
    json!({
        "app.kubernetes.io/name": "plumb",
        "app.kubernetes.io/managed-by": "plumb-k8s-render",
        JOB_LABEL: plan.name,
    })
}

fn pod_template(plan: &RenderPlan, start_at: &str) -> Value {
    json!({
        "metadata": { "labels": labels(plan) },
        "spec": {
            "restartPolicy": "Never",
            "affinity": { "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [{
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": { "matchLabels": { JOB_LABEL: plan.name } },
                    },
                }],
            }},
            "containers": [{
                "name": "plumb",
                "image": plan.image,
                "command": ["plumb"],
                "args": segment_args(plan, start_at),
                "env": [{ "name": "PLUMB_NO_SAVE", "value": "1" }],
            }],
        },
    })
}

/// `load ARGS... --segment auto/N --start-at TIME -o json -q`: the JSON result on stdout.
pub fn segment_args(plan: &RenderPlan, start_at: &str) -> Vec<String> {
    let mut args = vec!["load".to_owned()];
    let (flags, after) = split_at_dashes(&plan.load_args);
    args.extend(flags.iter().cloned());
    args.extend(["--segment".to_owned(), format!("auto/{}", plan.segments)]);
    if plan.coordinator {
        args.extend(["--coordinator".to_owned(), coordinator_address(plan)]);
    } else {
        args.extend(["--start-at".to_owned(), start_at.to_owned()]);
    }
    args.extend(["-o".to_owned(), "json".to_owned(), "-q".to_owned()]);
    args.extend(after.iter().cloned());
    args
}

/// The arguments before a `--` and from it on, so added flags stay flags.
fn split_at_dashes(args: &[String]) -> (&[String], &[String]) {
    let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
    args.split_at(at)
}

/// The latest the load starts after rendering: `--start-in`, or with a coordinator the longest a
/// segment waits for it (the start comes once every segment joined).
pub fn start_bound(plan: &RenderPlan) -> Duration {
    if plan.coordinator {
        crate::commands::coordinate::SEGMENT_WAIT
    } else {
        plan.start_in
    }
}

/// The coordinator's name: its Pod's and its Service's.
fn coordinator_name(plan: &RenderPlan) -> String {
    format!("{}-coordinator", plan.name)
}

/// Where the segments dial the coordinator: its Service's cluster DNS name.
pub fn coordinator_address(plan: &RenderPlan) -> String {
    format!(
        "{}.{}.svc:{COORDINATOR_PORT}",
        coordinator_name(plan),
        plan.namespace
    )
}

/// The coordinator's Pod: `plumb coordinate --segments N` with the test's thresholds, judged over
/// the whole fleet every second (and `--abort-on-fail` when asked), never restarted.
pub fn coordinator_pod(plan: &RenderPlan) -> Value {
    let mut args = vec![
        "coordinate".to_owned(),
        "--segments".to_owned(),
        plan.segments.to_string(),
        "--listen".to_owned(),
        format!("0.0.0.0:{COORDINATOR_PORT}"),
    ];
    for threshold in &plan.thresholds {
        args.extend(["--threshold".to_owned(), threshold.clone()]);
    }
    if plan.abort_on_fail {
        args.push("--abort-on-fail".to_owned());
    }
    let name = coordinator_name(plan);
    let mut labels = labels(plan);
    labels[COORDINATOR_LABEL] = json!(plan.name);
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "namespace": plan.namespace, "labels": labels },
        "spec": {
            "restartPolicy": "Never",
            "containers": [{
                "name": "coordinator",
                "image": plan.image,
                "command": ["plumb"],
                "args": args,
                "ports": [{ "containerPort": COORDINATOR_PORT, "name": "coordinator" }],
            }],
        },
    })
}

/// The Service the segments dial the coordinator by.
pub fn coordinator_service(plan: &RenderPlan) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": coordinator_name(plan),
            "namespace": plan.namespace,
            "labels": labels(plan),
        },
        "spec": {
            "selector": { COORDINATOR_LABEL: plan.name },
            "ports": [{ "port": COORDINATOR_PORT, "targetPort": COORDINATOR_PORT, "name": "coordinator" }],
        },
    })
}
