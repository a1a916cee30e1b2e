//! Who/where facts stored with a run: the git commit (with a dirty flag) of the working directory
//! and a fingerprint of the host, read from `/proc` (so two runs from different machines are
//! flagged before they are compared).

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::{Command, Stdio};

/// The git state of the directory a run started in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    /// `git rev-parse HEAD`.
    pub commit: String,
    /// True when tracked files differ from the commit.
    pub dirty: bool,
}

impl GitInfo {
    /// Ask `git` (as a subprocess) about `dir`; `None` outside a repository or without git.
    pub fn of(dir: &Path) -> Option<GitInfo> {
        let commit = git(dir, &["rev-parse", "HEAD"])?;
        let status = git(dir, &["status", "--porcelain", "--untracked-files=no"])?;
        Some(GitInfo {
            commit: commit.trim().to_owned(),
            dirty: !status.trim().is_empty(),
        })
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What makes two machines' numbers comparable, or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFingerprint {
    /// The host name.
    pub hostname: String,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Logical CPUs.
    pub cores: u64,
    /// `MemTotal` from `/proc/meminfo`, in bytes.
    pub memory_bytes: u64,
    /// The kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
}

impl HostFingerprint {
    /// Read this machine's fingerprint; fields that cannot be read stay empty or zero.
    pub fn current() -> HostFingerprint {
        let cpuinfo = read("/proc/cpuinfo");
        HostFingerprint {
            hostname: read("/proc/sys/kernel/hostname").trim().to_owned(),
            cpu_model: field(&cpuinfo, "model name").unwrap_or_default(),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get() as u64),
            memory_bytes: field(&read("/proc/meminfo"), "MemTotal")
                .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
        }
    }

    /// The fields in which `other` differs from `self` (the host name is not one of them: two
    /// identical CI runners compare fine).
    pub fn differences(&self, other: &HostFingerprint) -> Vec<String> {
        let mut out = Vec::new();
        if self.cpu_model != other.cpu_model {
            out.push(format!("CPU '{}' vs '{}'", self.cpu_model, other.cpu_model));
        }
        if self.cores != other.cores {
            out.push(format!("{} vs {} cores", self.cores, other.cores));
        }
        if self.memory_bytes != other.memory_bytes {
            out.push(format!(
                "{} vs {} MiB of memory",
                self.memory_bytes >> 20,
                other.memory_bytes >> 20
            ));
        }
        if self.kernel != other.kernel {
            out.push(format!("kernel {} vs {}", self.kernel, other.kernel));
        }
        out
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The value of the first `key : value` line of a `/proc` file.
fn field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}
