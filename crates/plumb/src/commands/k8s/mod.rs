//! `plumb k8s render`: a load test split into a Kubernetes Indexed Job (`job.yaml`) and the
//! script that gathers and merges its segments' results (`gather.sh`), written into `-o DIR`.
//! The absolute start (`--start-in` from now) is written into both and said on stdout; with
//! `--coordinator`, `coordinator.yaml` (a Pod running `plumb coordinate` and its Service) gives
//! the start instead and judges the thresholds over the whole fleet live.

mod gather;
mod manifest;

use crate::exit::Outcome;
use crate::output::Destination;
use anyhow::Context;
use plumb_cli::{K8sAction, K8sArgs, RenderPlan};
use std::time::SystemTime;

/// Run `plumb k8s`.
pub fn run(args: K8sArgs) -> anyhow::Result<Outcome> {
    match args.action {
        K8sAction::Render(render) => self::render(&render.resolve()?),
    }
}

/// Write the files of `plan` and say what to do next.
fn render(plan: &RenderPlan) -> anyhow::Result<Outcome> {
    let start = SystemTime::now() + plan.start_in;
    let start_at = humantime::format_rfc3339_seconds(start).to_string();
    std::fs::create_dir_all(&plan.dir).with_context(|| {
        format!(
            "cannot create the directory {} (-o)\nhint: give -o a directory plumb may write",
            plan.dir.display()
        )
    })?;
    let job_path = plan.dir.join("job.yaml");
    let gather_path = plan.dir.join("gather.sh");
    let job_file = Destination::check("-o", &job_path, false)?;
    let gather_file = Destination::check("-o", &gather_path, false)?;
    let coordinator = plan
        .coordinator
        .then(|| Destination::check("-o", &plan.dir.join("coordinator.yaml"), false))
        .transpose()?;
    job_file.write(manifest_yaml(plan, &start_at)?.as_bytes())?;
    if let Some(file) = coordinator {
        file.write(coordinator_yaml(plan)?.as_bytes())?;
    }
    gather_file.write(gather::script(plan, &start_at).as_bytes())?;
    executable(&gather_path)?;
    crate::output::stdout(summary(plan, &start_at, &job_path, &gather_path).as_bytes())?;
    if on_loopback(&plan.url) {
        crate::output::log(&format!(
            "warning: {} is on loopback, which inside a pod is the pod itself\nhint: give the service's cluster address, e.g. http://shop.default.svc:8080/",
            plan.url
        ));
    }
    Ok(Outcome::Passed)
}

/// Whether a URL's host is this machine (127.0.0.0/8, localhost, [::1]).
fn on_loopback(url: &str) -> bool {
    let authority = url.split("://").nth(1).unwrap_or(url);
    let host_port = authority.split(['/', '?', '#']).next().unwrap_or("");
    let host = host_port
        .rsplit_once(':')
        .filter(|(h, _)| !h.is_empty() && !host_port.ends_with(']'))
        .map_or(host_port, |(h, _)| h);
    host.starts_with("127.") || host.eq_ignore_ascii_case("localhost") || host == "[::1]"
}

/// job.yaml: the comment that says when the load starts, then the Job.
pub fn manifest_yaml(plan: &RenderPlan, start_at: &str) -> anyhow::Result<String> {
    if plan.coordinator {
        let comments = [
            format!("Written by plumb k8s render: {} segments of one load test.", plan.segments),
            "Each segment joins the coordinator of coordinator.yaml, which starts them all together"
                .into(),
            "once every one has joined. Apply coordinator.yaml first, then this; then run gather.sh."
                .into(),
        ];
        return document(&comments, &manifest::job(plan, start_at));
    }
    let comments = [
        format!(
            "Written by plumb k8s render: {} segments of one load test.",
            plan.segments
        ),
        format!(
            "Every segment starts its load at {start_at} (--start-at, {} after rendering).",
            humantime::format_duration(plan.start_in)
        ),
        "Apply it before then: kubectl apply -f job.yaml; a pod that reaches the start more than"
            .into(),
        "5 s late refuses to run, so render again for a later start. Then run gather.sh.".into(),
    ];
    document(&comments, &manifest::job(plan, start_at))
}

/// coordinator.yaml: the coordinator's Pod and Service, two documents.
pub fn coordinator_yaml(plan: &RenderPlan) -> anyhow::Result<String> {
    let comments = [format!(
        "Written by plumb k8s render: the coordinator of job/{}'s {} segments (plumb coordinate).",
        plan.name, plan.segments
    )];
    let pod = document(&comments, &manifest::coordinator_pod(plan))?;
    let service = document(&[], &manifest::coordinator_service(plan))?;
    Ok(format!("{pod}---\n{service}"))
}

/// A manifest as YAML after `comments` (each line prefixed with `# `).
fn document(comments: &[String], value: &serde_json::Value) -> anyhow::Result<String> {
    let mut out: String = comments.iter().map(|c| format!("# {c}\n")).collect();
    out.push_str(&serde_yaml_ng::to_string(value).context("cannot write the manifest as YAML")?);
    Ok(out)
}

fn summary(
    plan: &RenderPlan,
    start_at: &str,
    job: &std::path::Path,
    gather: &std::path::Path,
) -> String {
    let judged = if plan.thresholds.is_empty() {
        String::new()
    } else {
        format!(
            "; {} threshold{} judged by plumb merge on the merged run",
            plan.thresholds.len(),
            if plan.thresholds.len() == 1 { "" } else { "s" }
        )
    };
    if plan.coordinator {
        let coordinator = plan.dir.join("coordinator.yaml");
        return format!(
            "wrote {}, {} and {}: job/{} in namespace {}, {} segments started together by the coordinator once all have joined{judged}\n\
             next: kubectl apply -f {} && kubectl apply -f {} && {}\n",
            coordinator.display(),
            job.display(),
            gather.display(),
            plan.name,
            plan.namespace,
            plan.segments,
            coordinator.display(),
            job.display(),
            gather.display(),
        );
    }
    format!(
        "wrote {} and {}: job/{} in namespace {}, {} segments starting at {start_at} (in {}){judged}\n\
         next: kubectl apply -f {} && {}\n",
        job.display(),
        gather.display(),
        plan.name,
        plan.namespace,
        plan.segments,
        humantime::format_duration(plan.start_in),
        job.display(),
        gather.display(),
    )
}

fn executable(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}
