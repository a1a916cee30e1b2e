//! Which processes a profile or a watch covers, and their CPU accounting.
//!
//! A [`ProcessSelection`] names PIDs, optionally with all their descendants (`tree`), and/or a
//! cgroup. Its membership is evaluated again at every reading ([`ProcessSelection::snapshot`]):
//! descendants are found by scanning the PPIDs of `/proc/*/stat` (the `task/*/children` files
//! need a kernel option many distributions leave out), a cgroup's members are the
//! `cgroup.procs` of it and of every cgroup below it. Membership is sticky: a descendant whose
//! parent exits (reparented to init) stays a member while it lives.
//!
//! [`CpuAccount`] turns successive snapshots into the group's CPU since the first one, without
//! counting anything twice and losing as little as /proc allows:
//! - a member's own user and system time (`utime`, `stime`) is counted from its first reading
//!   (from zero for a process born during the run);
//! - when children count (a tree or a cgroup), a member's `cutime`/`cstime` counts too: that is
//!   where the kernel puts the CPU of children it reaped, so a child that lived and died between
//!   two readings is not lost. A member that vanished was counted up to its last reading; when
//!   its parent is a live member whose children's time grew by at least that much, the parent
//!   reaped it and the part already counted is taken back out of the parent's growth;
//! - what is lost: the CPU a member used after its last reading when no member reaped it (an
//!   orphan reaped by init, a child of a process that ignores SIGCHLD, the selected process
//!   itself). A launched command is reaped by plumb, whose `wait4` gives the rest (see
//!   `launch.rs`).

use crate::error::ProfileError;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// `PF_EXITING` of the kernel's task flags (`/proc/PID/stat` field 9).
const PF_EXITING: u64 = 0x4;

/// Where cgroup v2 is usually mounted; a relative `--cgroup` path is looked up below the cgroup2
/// mount point found in `/proc/self/mountinfo`, or below this.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The processes to measure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessSelection {
    /// These processes.
    pub pids: Vec<u32>,
    /// And all their descendants, including those started while measuring.
    pub tree: bool,
    /// And every process of this cgroup (and of the cgroups below it).
    pub cgroup: Option<PathBuf>,
}

impl ProcessSelection {
    /// One process, without its children.
    pub fn pid(pid: u32) -> Self {
        Self {
            pids: vec![pid],
            ..Self::default()
        }
    }

    /// A process and all its descendants.
    pub fn tree_of(pid: u32) -> Self {
        Self {
            pids: vec![pid],
            tree: true,
            cgroup: None,
        }
    }

    /// Whether the CPU of reaped children counts (they belong to the selection).
    pub fn counts_children(&self) -> bool {
        self.tree || self.cgroup.is_some()
    }

    /// The selection in words: `PID 4242 and its descendants`, `cgroup /sys/fs/cgroup/app`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.pids.is_empty() {
            let list: Vec<String> = self.pids.iter().map(u32::to_string).collect();
            let noun = if self.pids.len() == 1 { "PID" } else { "PIDs" };
            let tail = match (self.tree, self.pids.len()) {
                (false, _) => "",
                (true, 1) => " and its descendants",
                (true, _) => " and their descendants",
            };
            parts.push(format!("{noun} {}{tail}", list.join(", ")));
        }
        if let Some(cgroup) = &self.cgroup {
            parts.push(format!("cgroup {}", cgroup.display()));
        }
        parts.join(" + ")
    }

    /// Check that every PID exists and is readable, and resolve the cgroup to its directory.
    pub fn checked(&self) -> Result<ProcessSelection, ProfileError> {
        for &pid in &self.pids {
            check_pid(pid)?;
        }
        let cgroup = self.cgroup.as_deref().map(resolve_cgroup).transpose()?;
        if self.pids.is_empty() && cgroup.is_none() {
            return Err(ProfileError::Io {
                context: "no process selected\nhint: name a PID or a cgroup".into(),
                source: std::io::ErrorKind::InvalidInput.into(),
            });
        }
        Ok(ProcessSelection {
            pids: self.pids.clone(),
            tree: self.tree,
            cgroup,
        })
    }

    /// The members now: their `/proc/PID/stat`, read once. `known` are members seen before
    /// (membership is sticky for descendants).
    pub(crate) fn snapshot(&self, known: &HashSet<u32>) -> Vec<ProcStat> {
        let mut roots: BTreeSet<u32> = self.pids.iter().copied().collect();
        if let Some(cgroup) = &self.cgroup {
            roots.extend(cgroup_members(cgroup));
        }
        if !self.tree {
            return roots.into_iter().filter_map(read_stat).collect();
        }
        roots.extend(known.iter().copied());
        descendants(&roots, all_processes())
    }
}

impl ProcessSelection {
    /// When the selection leaves out children that work harder than their parent (a gunicorn
    /// master, a Node cluster's primary, a shell that runs the real program), a note that says
    /// so and names `flag` (`--tree`, `--watch-tree`) to include them.
    pub fn busy_children_note(&self, flag: &str) -> Option<String> {
        if self.tree || self.cgroup.is_some() {
            return None;
        }
        let roots: BTreeSet<u32> = self.pids.iter().copied().collect();
        let tree = descendants(&roots, all_processes());
        let (parents, children): (Vec<&ProcStat>, Vec<&ProcStat>) =
            tree.iter().partition(|p| roots.contains(&p.pid));
        let cpu = |ps: &[&ProcStat]| {
            ps.iter()
                .map(|p| p.times.user + p.times.system)
                .sum::<u64>()
        };
        let (own, theirs) = (cpu(&parents), cpu(&children));
        if children.is_empty() || theirs <= own {
            return None;
        }
        let tick = procfs::ticks_per_second() as f64;
        let mut names: Vec<&str> = children.iter().map(|c| c.comm.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        Some(format!(
            "the selected process has {} child process(es) ({}) that have used {:.1} s of CPU, more than it has itself ({:.1} s): their work is not in this profile; add {flag} to include them",
            children.len(),
            names.join(", "),
            theirs as f64 / tick,
            own as f64 / tick
        ))
    }
}

fn check_pid(pid: u32) -> Result<(), ProfileError> {
    if pid == 0 || i32::try_from(pid).is_err() {
        return Err(ProfileError::NoSuchProcess { pid });
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(ProfileError::ProcDenied {
                pid,
                hint: "run plumb as the process's owner, or as root".into(),
            })
        }
        Err(_) => Err(ProfileError::NoSuchProcess { pid }),
    }
}

/// A cgroup directory: an absolute path as given, a relative one below the cgroup2 mount.
pub fn resolve_cgroup(path: &Path) -> Result<PathBuf, ProfileError> {
    let candidates: Vec<PathBuf> = if path.is_absolute() {
        vec![path.to_path_buf()]
    } else {
        let mut roots: Vec<PathBuf> = cgroup2_mount().into_iter().collect();
        roots.push(PathBuf::from(CGROUP_ROOT));
        roots.iter().map(|root| root.join(path)).collect()
    };
    candidates
        .iter()
        .find(|dir| dir.join("cgroup.procs").is_file())
        .cloned()
        .ok_or_else(|| {
            let tried: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            ProfileError::Io {
                context: format!(
                    "no cgroup at {} (no cgroup.procs there)\nhint: give the cgroup's directory, absolute or relative to the cgroup v2 mount (see `cat /proc/PID/cgroup`)",
                    tried.join(" or ")
                ),
                source: std::io::ErrorKind::NotFound.into(),
            }
        })
}

/// The mount point of cgroup v2, from `/proc/self/mountinfo`.
fn cgroup2_mount() -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| left.split_whitespace().nth(4).map(PathBuf::from))?
    })
}

/// PIDs in `cgroup.procs` of `dir` and of every cgroup below it.
fn cgroup_members(dir: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            pids.extend(
                text.lines()
                    .filter_map(|line| line.trim().parse::<u32>().ok()),
            );
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        pending.extend(
            entries
                .flatten()
                .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
                .map(|entry| entry.path()),
        );
    }
    pids
}

/// Every process's stat, read now.
fn all_processes() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(read_stat)
        .collect()
}

/// The processes of `all` that are `roots` or descend from one.
fn descendants(roots: &BTreeSet<u32>, all: Vec<ProcStat>) -> Vec<ProcStat> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for stat in &all {
        children.entry(stat.ppid).or_default().push(stat.pid);
    }
    let mut members: HashSet<u32> = HashSet::new();
    let mut pending: Vec<u32> = roots.iter().copied().collect();
    while let Some(pid) = pending.pop() {
        if members.insert(pid) {
            pending.extend(children.get(&pid).into_iter().flatten().copied());
        }
    }
    all.into_iter()
        .filter(|stat| members.contains(&stat.pid))
        .collect()
}

/// The fields of `/proc/PID/stat` plumb uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ProcStat {
    /// Process ID.
    pub pid: u32,
    /// Its name (`comm`, at most 15 bytes).
    pub comm: String,
    /// `R`, `S`, `D`, `Z`, ...
    pub state: char,
    /// Parent's PID.
    pub ppid: u32,
    /// Kernel task flags.
    pub flags: u64,
    /// User, system, reaped children's user and system time, in clock ticks.
    pub times: Times,
    /// Number of threads.
    pub threads: u64,
    /// Start time in clock ticks since boot (with the PID, it tells a reused PID apart).
    pub start: u64,
    /// Resident pages.
    pub rss_pages: u64,
}

impl ProcStat {
    /// Whether the process still runs (not a zombie, not tearing itself down).
    pub fn is_live(&self) -> bool {
        self.state != 'Z' && self.state != 'X' && self.flags & PF_EXITING == 0
    }
}

/// CPU times of one process in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Times {
    /// Its own user time.
    pub user: u64,
    /// Its own system time.
    pub system: u64,
    /// User time of the children it reaped.
    pub children_user: u64,
    /// System time of the children it reaped.
    pub children_system: u64,
}

impl Times {
    /// (user, system), with the reaped children's when `children`.
    fn pair(self, children: bool) -> (u64, u64) {
        if children {
            (
                self.user + self.children_user,
                self.system + self.children_system,
            )
        } else {
            (self.user, self.system)
        }
    }
}

/// `/proc/PID/stat` of `pid`, or `None` once it is gone.
pub(crate) fn read_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
}

/// Parse a stat line; the name may hold spaces and parentheses, so it ends at the last `)`.
pub(crate) fn parse_stat(pid: u32, text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let number = |index: usize| fields.get(index)?.parse::<u64>().ok();
    let signed = |index: usize| Some(fields.get(index)?.parse::<i64>().ok()?.max(0) as u64);
    Some(ProcStat {
        pid,
        comm,
        state: fields.first()?.chars().next()?,
        ppid: u32::try_from(number(1)?).ok()?,
        flags: number(6)?,
        times: Times {
            user: number(11)?,
            system: number(12)?,
            children_user: signed(13)?,
            children_system: signed(14)?,
        },
        threads: signed(17)?,
        start: number(19)?,
        rss_pages: signed(21)?,
    })
}

/// Clock ticks since boot now (the clock of a process's start time).
pub(crate) fn ticks_since_boot() -> u64 {
    let uptime = std::fs::read_to_string("/proc/uptime").unwrap_or_default();
    let seconds: f64 = uptime
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    (seconds * procfs::ticks_per_second() as f64) as u64
}

/// One member as the account last saw it.
#[derive(Debug, Clone)]
struct Seen {
    start: u64,
    ppid: u32,
    comm: String,
    /// Its times at the last reading.
    last: Times,
    /// Its times when counting began (zero for a process born during the run).
    base: Times,
}

/// CPU of one member over the run, for the list of the busiest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberCpu {
    /// Process ID.
    pub pid: u32,
    /// Name at the last reading.
    pub comm: String,
    /// Its own user + system ticks since counting began.
    pub ticks: u64,
    /// Whether it had vanished by the last reading.
    pub exited: bool,
}

/// The group's CPU since the first snapshot, from successive snapshots (see the module doc).
#[derive(Debug)]
pub(crate) struct CpuAccount {
    children: bool,
    /// Processes started at or after this (ticks since boot) were born during the run.
    run_start: u64,
    first: bool,
    live: HashMap<u32, Seen>,
    gone: Vec<(u32, Seen)>,
    /// User and system ticks counted so far.
    total: (u64, u64),
}

impl CpuAccount {
    /// Count CPU from the first [`CpuAccount::update`] on; `children` counts reaped children.
    pub fn new(children: bool, run_start: u64) -> Self {
        Self {
            children,
            run_start,
            first: true,
            live: HashMap::new(),
            gone: Vec::new(),
            total: (0, 0),
        }
    }

    /// User and system ticks of the group since counting began.
    pub fn total(&self) -> (u64, u64) {
        self.total
    }

    /// PIDs of the members seen at the last update.
    pub fn known(&self) -> HashSet<u32> {
        self.live.keys().copied().collect()
    }

    /// Take in the members' stats read now.
    pub fn update(&mut self, stats: &[ProcStat]) {
        let now: HashMap<u32, &ProcStat> = stats.iter().map(|stat| (stat.pid, stat)).collect();
        let vanished: Vec<Seen> = self.take_vanished(&now);
        let mut children_growth: HashMap<u32, (u64, u64)> = HashMap::new();
        for stat in stats {
            let growth = self.count(stat);
            children_growth.insert(stat.pid, growth);
        }
        for seen in vanished {
            self.settle(&seen, &mut children_growth);
        }
        self.first = false;
    }

    /// Members gone since the last update (a PID now held by another process counts as gone).
    fn take_vanished(&mut self, now: &HashMap<u32, &ProcStat>) -> Vec<Seen> {
        let gone: Vec<u32> = self
            .live
            .iter()
            .filter(|(pid, seen)| now.get(pid).is_none_or(|stat| stat.start != seen.start))
            .map(|(&pid, _)| pid)
            .collect();
        let mut vanished = Vec::new();
        for pid in gone {
            if let Some(seen) = self.live.remove(&pid) {
                self.gone.push((pid, seen.clone()));
                vanished.push(seen);
            }
        }
        vanished
    }

    /// Count `stat`'s growth since its last reading; returns the growth of its reaped
    /// children's time (what a vanished child may account for).
    fn count(&mut self, stat: &ProcStat) -> (u64, u64) {
        let born_during_run = !self.first && stat.start >= self.run_start;
        let seen = self.live.entry(stat.pid).or_insert_with(|| Seen {
            start: stat.start,
            ppid: stat.ppid,
            comm: stat.comm.clone(),
            last: if born_during_run {
                Times::default()
            } else {
                stat.times
            },
            base: if born_during_run {
                Times::default()
            } else {
                stat.times
            },
        });
        let (before, after) = (seen.last, stat.times);
        let grow = |from: u64, to: u64| to.saturating_sub(from);
        let (user, system) = (
            grow(before.pair(self.children).0, after.pair(self.children).0),
            grow(before.pair(self.children).1, after.pair(self.children).1),
        );
        seen.last = after;
        seen.ppid = stat.ppid;
        seen.comm.clone_from(&stat.comm);
        self.total.0 += user;
        self.total.1 += system;
        (
            grow(before.children_user, after.children_user),
            grow(before.children_system, after.children_system),
        )
    }

    /// A vanished member: when its live parent's children's time grew by at least what was
    /// counted of it, the parent reaped it, and that part was just counted a second time.
    fn settle(&mut self, seen: &Seen, growth: &mut HashMap<u32, (u64, u64)>) {
        if !self.children {
            return;
        }
        let (user, system) = seen.last.pair(true);
        let Some(parent) = growth.get_mut(&seen.ppid) else {
            return;
        };
        if parent.0 + parent.1 < user + system {
            return;
        }
        // The parent's growth holds the child's whole final time; the child's own readings
        // already counted `last - base` of it, so `last` comes back out (base was never counted).
        parent.0 = parent.0.saturating_sub(user);
        parent.1 = parent.1.saturating_sub(system);
        self.total.0 = self.total.0.saturating_sub(user);
        self.total.1 = self.total.1.saturating_sub(system);
    }

    /// Every member seen, with its own CPU over the run.
    pub fn members(&self) -> Vec<MemberCpu> {
        let live = self
            .live
            .iter()
            .map(|(&pid, seen)| member_cpu(pid, seen, false));
        let gone = self
            .gone
            .iter()
            .map(|(pid, seen)| member_cpu(*pid, seen, true));
        gone.chain(live).collect()
    }

    /// Raise the total to at least `floor` (user, system ticks since counting began): the
    /// accounting of a launched command's `wait4`, which has what /proc lost of reaped members.
    pub fn at_least(&mut self, floor: (u64, u64)) {
        self.total.0 = self.total.0.max(floor.0);
        self.total.1 = self.total.1.max(floor.1);
    }

    /// The (user, system) times, with reaped children's, a member had when counting began
    /// (zero when born during the run); the latest process with that PID.
    pub fn base_of(&self, pid: u32) -> Option<(u64, u64)> {
        let gone = self.gone.iter().rev().find(|(p, _)| *p == pid);
        self.live
            .get(&pid)
            .or(gone.map(|(_, seen)| seen))
            .map(|seen| seen.base.pair(true))
    }
}

fn member_cpu(pid: u32, seen: &Seen, exited: bool) -> MemberCpu {
    let own = |times: Times| times.user + times.system;
    MemberCpu {
        pid,
        comm: seen.comm.clone(),
        ticks: own(seen.last).saturating_sub(own(seen.base)),
        exited,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, ppid: u32, start: u64, own: (u64, u64), children: (u64, u64)) -> ProcStat {
        ProcStat {
            pid,
            comm: format!("p{pid}"),
            state: 'R',
            ppid,
            times: Times {
                user: own.0,
                system: own.1,
                children_user: children.0,
                children_system: children.1,
            },
            threads: 1,
            start,
            ..ProcStat::default()
        }
    }

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let line = "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 250 30 12 3 20 0 4 0 9000 1000 77 184467";
        let stat = parse_stat(42, line).unwrap();
        assert_eq!(stat.comm, "a (b) c");
        assert_eq!((stat.state, stat.ppid, stat.threads), ('S', 7, 4));
        assert_eq!(
            stat.times,
            Times {
                user: 250,
                system: 30,
                children_user: 12,
                children_system: 3
            }
        );
        assert_eq!((stat.start, stat.rss_pages), (9000, 77));
    }

    #[test]
    fn tree_counts_workers_and_a_reaped_worker_once() {
        let mut account = CpuAccount::new(true, 1000);
        // A master (1) with a worker (2) that existed before the run.
        account.update(&[
            stat(1, 0, 10, (5, 0), (0, 0)),
            stat(2, 1, 20, (40, 2), (0, 0)),
        ]);
        assert_eq!(account.total(), (0, 0));
        // Worker 2 burns 30 ticks, a new worker 3 is born and burns 20.
        account.update(&[
            stat(1, 0, 10, (5, 0), (0, 0)),
            stat(2, 1, 20, (70, 2), (0, 0)),
            stat(3, 1, 1500, (20, 0), (0, 0)),
        ]);
        assert_eq!(account.total(), (50, 0));
        // Worker 3 burns 5 more ticks and is reaped by the master: its final 25 ticks land in
        // the master's children time; only the 5 unseen ticks are new.
        account.update(&[
            stat(1, 0, 10, (5, 0), (25, 0)),
            stat(2, 1, 20, (70, 2), (0, 0)),
        ]);
        assert_eq!(account.total(), (55, 0));
        let members = account.members();
        let three = members.iter().find(|m| m.pid == 3).unwrap();
        assert!(three.exited && three.ticks == 20, "{three:?}");
    }

    #[test]
    fn a_child_born_and_reaped_between_readings_counts_through_its_parent() {
        let mut account = CpuAccount::new(true, 1000);
        account.update(&[stat(1, 0, 10, (0, 0), (3, 0))]);
        account.update(&[stat(1, 0, 10, (1, 0), (43, 7))]);
        assert_eq!(account.total(), (41, 7));
    }

    #[test]
    fn without_children_a_reaped_child_adds_nothing() {
        let mut account = CpuAccount::new(false, 1000);
        account.update(&[stat(1, 0, 10, (0, 0), (0, 0))]);
        account.update(&[stat(1, 0, 10, (2, 1), (40, 0))]);
        assert_eq!(account.total(), (2, 1));
    }

    #[test]
    fn an_orphan_reaped_elsewhere_keeps_what_was_counted() {
        let mut account = CpuAccount::new(true, 1000);
        account.update(&[stat(1, 0, 10, (0, 0), (0, 0))]);
        account.update(&[
            stat(1, 0, 10, (0, 0), (0, 0)),
            stat(2, 1, 1200, (30, 0), (0, 0)),
        ]);
        // 2 vanished, but its parent's children time did not grow: nobody here reaped it.
        account.update(&[stat(1, 0, 10, (0, 0), (0, 0))]);
        assert_eq!(account.total(), (30, 0));
    }

    #[test]
    fn a_reused_pid_is_a_new_process() {
        let mut account = CpuAccount::new(true, 1000);
        account.update(&[stat(5, 0, 10, (100, 0), (0, 0))]);
        account.update(&[stat(5, 0, 2000, (7, 0), (0, 0))]);
        assert_eq!(account.total(), (7, 0));
    }

    #[test]
    fn descendants_follow_ppids() {
        let all = vec![
            stat(1, 0, 0, (0, 0), (0, 0)),
            stat(2, 1, 0, (0, 0), (0, 0)),
            stat(3, 2, 0, (0, 0), (0, 0)),
            stat(4, 1, 0, (0, 0), (0, 0)),
            stat(9, 8, 0, (0, 0), (0, 0)),
        ];
        let pids = |roots: &[u32]| {
            let mut found: Vec<u32> = descendants(&roots.iter().copied().collect(), all.clone())
                .iter()
                .map(|s| s.pid)
                .collect();
            found.sort_unstable();
            found
        };
        assert_eq!(pids(&[2]), vec![2, 3]);
        assert_eq!(pids(&[2, 9]), vec![2, 3, 9]);
    }

    #[test]
    fn selections_describe_themselves() {
        assert_eq!(ProcessSelection::pid(7).describe(), "PID 7");
        assert_eq!(
            ProcessSelection::tree_of(7).describe(),
            "PID 7 and its descendants"
        );
        let both = ProcessSelection {
            pids: vec![1, 2],
            tree: true,
            cgroup: Some("/sys/fs/cgroup/app".into()),
        };
        assert_eq!(
            both.describe(),
            "PIDs 1, 2 and their descendants + cgroup /sys/fs/cgroup/app"
        );
    }
}
