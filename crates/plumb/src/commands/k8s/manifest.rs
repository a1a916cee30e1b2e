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
        let deadline = plan.start_in + planned + GRACE;
        spec["activeDeadlineSeconds"] = json!(deadline.as_secs());
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": plan.name,
            "namespace": plan.namespace,
            "labels": labels(plan),
            "annotations": {
                "plumb.dev/start-at": start_at,
                "plumb.dev/segments": plan.segments.to_string(),
            },
        },
        "spec": spec,
    })
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
    args.extend([
        "--segment".to_owned(),
        format!("auto/{}", plan.segments),
        "--start-at".to_owned(),
        start_at.to_owned(),
        "-o".to_owned(),
        "json".to_owned(),
        "-q".to_owned(),
    ]);
    args.extend(after.iter().cloned());
    args
}

/// The arguments before a `--` and from it on, so added flags stay flags.
fn split_at_dashes(args: &[String]) -> (&[String], &[String]) {
    let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
    args.split_at(at)
}
