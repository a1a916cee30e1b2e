//! gather.sh: what collects a split test's results and merges them. It waits for the Job to
//! finish (complete, or failed: a fleet aborted by its coordinator fails every pod, and what they
//! measured is merged all the same), takes each index's finished pod (by the `batch.kubernetes.io/job-completion-index` label),
//! cuts the JSON result out of its log (the pod prints it on stdout; `kubectl logs` interleaves
//! stderr's lines, which are never a lone `{` or `}`), and runs `plumb merge` with the test's
//! thresholds, which the segments themselves never judged.

use plumb_cli::RenderPlan;
use std::time::Duration;

/// How long gather.sh waits for the job by default beyond its start and planned length.
const WAIT_MARGIN: Duration = Duration::from_secs(300);
/// The wait when the test has no planned length (`-n` requests).
const WAIT_UNPLANNED: Duration = Duration::from_secs(3600);

/// The script's text.
pub fn script(plan: &RenderPlan, start_at: &str) -> String {
    let wait =
        super::manifest::start_bound(plan) + plan.planned.unwrap_or(WAIT_UNPLANNED) + WAIT_MARGIN;
    let starts = if plan.coordinator {
        "starts when every segment has joined its coordinator".to_owned()
    } else {
        format!("starts at {start_at}")
    };
    let thresholds: Vec<String> = plan
        .thresholds
        .iter()
        .map(|t| format!("--threshold {}", shell_words::quote(t)))
        .collect();
    let merge = std::iter::once("plumb merge \"$dir\"/segment-*.json".to_owned())
        .chain(thresholds)
        .chain(std::iter::once(
            "--label k8s-job=\"$job\" \"$@\"".to_owned(),
        ))
        .collect::<Vec<_>>()
        .join(" \\\n  ");
    format!(
        r#"#!/bin/sh
# Written by plumb k8s render: gathers the {segments} segment results of job/{name} (its load
# {starts}) and merges them with plumb merge, which judges the thresholds on the
# merged run. Usage: ./gather.sh [plumb merge flags, e.g. --json merged.json]
# PLUMB_RESULTS: where the segments' results go [default: results/ beside this script]
# PLUMB_WAIT: how many seconds to wait for the job to finish [default: {wait}]
set -eu
job={name}
namespace={namespace}
segments={segments}
dir=${{PLUMB_RESULTS:-$(dirname "$0")/results}}
mkdir -p "$dir"
deadline=$(( $(date +%s) + ${{PLUMB_WAIT:-{wait}}} ))
while :; do
  state=$(kubectl -n "$namespace" get "job/$job" -o 'jsonpath={{.status.conditions[?(@.status=="True")].type}}')
  case " $state " in *" Complete "*|*" Failed "*) break ;; esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "gather.sh: job/$job has not finished; raise PLUMB_WAIT (seconds) or look at its pods:" >&2
    kubectl -n "$namespace" get pods -l "job-name=$job" >&2 || true
    exit 2
  fi
  sleep 5
done
case " $state " in *" Failed "*)
  echo "gather.sh: job/$job failed (a segment exited non-zero: its coordinator aborted the fleet or was lost, or plumb could not run); merging what the segments measured" >&2 ;;
esac
i=0
while [ "$i" -lt "$segments" ]; do
  pod=$(kubectl -n "$namespace" get pods \
    -l "job-name=$job,batch.kubernetes.io/job-completion-index=$i" \
    --field-selector=status.phase!=Pending,status.phase!=Running,status.phase!=Unknown \
    -o 'jsonpath={{.items[0].metadata.name}}')
  if [ -z "$pod" ]; then
    echo "gather.sh: no finished pod for segment $i of job/$job" >&2
    exit 2
  fi
  kubectl -n "$namespace" logs "$pod" | awk '/^[{{]$/ {{ on = 1 }} on {{ print }} /^[}}]$/ {{ on = 0 }}' > "$dir/segment-$i.json"
  if [ ! -s "$dir/segment-$i.json" ]; then
    echo "gather.sh: pod $pod (segment $i) printed no result; kubectl -n $namespace logs $pod says why" >&2
    exit 2
  fi
  i=$((i + 1))
done
{merge}
"#,
        segments = plan.segments,
        name = plan.name,
        namespace = plan.namespace,
        wait = wait.as_secs(),
    )
}
