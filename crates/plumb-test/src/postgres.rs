//! A throwaway PostgreSQL cluster (Debian's postgresql package, installed by .ci/run) in a
//! temporary directory on a free loopback port, with pg_stat_statements preloaded, password
//! (SCRAM) authentication over TCP, and `psql` helpers to seed it and to hold sessions open.
//!
//! PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
//! `postgres` user (`setpriv`), in a directory handed to that user. The postmaster gets SIGTERM
//! when plumb's test process exits (an `atexit` hook, and a parent-death signal if it crashes).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The superuser's password in every test cluster.
pub const PASSWORD: &str = "plumb-test-secret";

/// A running cluster; stopped when the test process exits.
pub struct Postgres {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
}

/// Postmasters to stop at exit: (pid, data directory's parent to remove).
static RUNNING: Mutex<Vec<(i32, PathBuf)>> = Mutex::new(Vec::new());

impl Postgres {
    /// The directory of `initdb`, `postgres` and `psql`: `pg_config --bindir`, else the newest
    /// /usr/lib/postgresql/*/bin.
    pub fn find_bin() -> Option<PathBuf> {
        let from_pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        let mut candidates: Vec<PathBuf> = from_pg_config.into_iter().collect();
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path().join("bin"))
                    .collect()
            })
            .unwrap_or_default();
        versions.sort_by_key(|p| version_of(p));
        candidates.extend(versions.into_iter().rev());
        candidates
            .into_iter()
            .find(|p| p.join("initdb").exists() && p.join("postgres").exists())
    }

    /// Start a cluster, or `None` (after a loud message on stderr) when PostgreSQL is not
    /// installed. Panics when it is installed but does not start.
    pub fn start() -> Option<Postgres> {
        let Some(bin) = Self::find_bin() else {
            eprintln!(
                "\n\n*** SKIPPING the PostgreSQL tests: no PostgreSQL server found (pg_config, \
                 /usr/lib/postgresql/*/bin) ***\n*** install it: apt-get install postgresql \
                 postgresql-contrib postgresql-15-hypopg (.ci/run does) ***\n\n"
            );
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("plumb-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let owner = Owner::current_or_postgres();
        owner.give(&dir);
        init(&bin, &dir, &owner);
        for _ in 0..5 {
            let port = crate::closed_port().port();
            if let Some(pid) = launch(&bin, &dir, port, &owner) {
                register(pid, dir.clone());
                return Some(Postgres { bin, port, dir });
            }
        }
        panic!(
            "PostgreSQL did not start; its log:\n{}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/DATABASE?sslmode=disable`.
    pub fn url(&self, database: &str) -> String {
        self.url_as("postgres", PASSWORD, database)
    }

    /// The URL of `database` for another role.
    pub fn url_as(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    /// Run SQL (several statements, each its own top-level statement) through psql as the
    /// superuser and return its unaligned output; panics with psql's error when one fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = self.run_psql(database, sql);
        assert!(
            output.status.success(),
            "psql failed on {database}: {}\nSQL: {}",
            String::from_utf8_lossy(&output.stderr),
            sql.chars().take(500).collect::<String>()
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Run SQL that must fail, and return psql's error text.
    pub fn psql_error(&self, database: &str, sql: &str) -> String {
        let output = self.run_psql(database, sql);
        assert!(!output.status.success(), "expected an error from: {sql}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    fn run_psql(&self, database: &str, sql: &str) -> std::process::Output {
        let mut child = self
            .psql_command(database, "plumb-test")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn psql");
        let mut stdin = child.stdin.take().expect("psql stdin");
        stdin.write_all(sql.as_bytes()).expect("write SQL to psql");
        drop(stdin);
        child.wait_with_output().expect("psql output")
    }

    /// A psql session kept open, fed SQL by [`Session::send`], named `application` in
    /// pg_stat_activity; killed when dropped.
    pub fn session(&self, database: &str, application: &str) -> Session {
        let child = self
            .psql_command(database, application)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn psql");
        Session { child }
    }

    fn psql_command(&self, database: &str, application: &str) -> Command {
        let mut command = Command::new(self.bin.join("psql"));
        command
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url(database))
            .env("PGAPPNAME", application)
            .env("PGCONNECT_TIMEOUT", "10");
        command
    }

    /// The cluster's directory (data in `data/`, server log in `log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// An open psql session.
pub struct Session {
    child: Child,
}

impl Session {
    /// Send SQL (it runs as soon as psql reads a complete statement).
    pub fn send(&mut self, sql: &str) {
        let stdin = self.child.stdin.as_mut().expect("psql stdin");
        stdin.write_all(sql.as_bytes()).expect("write to psql");
        stdin.write_all(b"\n").expect("write to psql");
        stdin.flush().expect("flush psql");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who runs the cluster: this process's user, or `postgres` when that is root.
struct Owner {
    switch: Option<(u32, u32)>,
}

impl Owner {
    fn current_or_postgres() -> Owner {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Owner { switch: None };
        }
        let name = std::ffi::CString::new("postgres").expect("no NUL");
        // SAFETY: a valid C string; the result is read at once, before another getpw* call.
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        assert!(
            !entry.is_null(),
            "running as root and there is no `postgres` user to run PostgreSQL as \
             (the postgresql package creates it)"
        );
        // SAFETY: checked non-null above.
        let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
        Owner {
            switch: Some((uid, gid)),
        }
    }

    fn give(&self, dir: &Path) {
        if let Some((uid, gid)) = self.switch {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).expect("chown the cluster dir");
        }
    }

    /// A command for `program` run as the owner, with SIGTERM when this thread's process dies.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new("setpriv");
        if let Some((uid, gid)) = self.switch {
            command.args([
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".to_owned(),
            ]);
        }
        command.args(["--pdeathsig", "TERM", "--"]).arg(program);
        command
    }
}

fn version_of(bin: &Path) -> u32 {
    bin.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn init(bin: &Path, dir: &Path, owner: &Owner) {
    let pwfile = dir.join("pwfile");
    std::fs::write(&pwfile, PASSWORD).expect("write pwfile");
    owner.give(&pwfile);
    let output = owner
        .command(&bin.join("initdb"))
        .arg("-D")
        .arg(dir.join("data"))
        .args([
            "-U",
            "postgres",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--no-sync",
            "--no-instructions",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .current_dir(dir)
        .output()
        .expect("run initdb");
    assert!(
        output.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Start the postmaster on `port`; its pid once it accepts connections, or `None` if it exited
/// (the port was taken).
fn launch(bin: &Path, dir: &Path, port: u16, owner: &Owner) -> Option<i32> {
    let log = std::fs::File::create(dir.join("log")).expect("create the server log");
    let settings = [
        format!("port={port}"),
        "listen_addresses=127.0.0.1".to_owned(),
        format!("unix_socket_directories={}", dir.display()),
        "shared_preload_libraries=pg_stat_statements".to_owned(),
        "track_io_timing=on".to_owned(),
        "fsync=off".to_owned(),
        "synchronous_commit=off".to_owned(),
        "full_page_writes=off".to_owned(),
        "max_connections=60".to_owned(),
        "shared_buffers=64MB".to_owned(),
    ];
    let mut command = owner.command(&bin.join("postgres"));
    command.arg("-D").arg(dir.join("data"));
    for setting in &settings {
        command.arg("-c").arg(setting);
    }
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    wait_ready(spawn_from_lasting_thread(command), port)
}

/// Spawn from a thread that never ends: the parent-death signal follows the spawning thread, and
/// a test's thread ends with the test while the cluster serves the whole test binary.
fn spawn_from_lasting_thread(mut command: Command) -> Child {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(command.spawn());
        loop {
            std::thread::park();
        }
    });
    receiver
        .recv()
        .expect("the spawning thread answers")
        .expect("spawn postgres")
}

fn wait_ready(mut child: Child, port: u16) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let pid = child.id() as i32;
            // The child is reaped by nobody; the exit hook signals it and waits on its pid file.
            std::mem::forget(child);
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

fn register(pid: i32, dir: PathBuf) {
    let mut running = RUNNING.lock().expect("cluster list");
    if running.is_empty() {
        // SAFETY: registering a plain extern "C" function with no captured state.
        unsafe { libc::atexit(stop_all) };
    }
    running.push((pid, dir));
}

extern "C" fn stop_all() {
    let Ok(running) = RUNNING.lock() else { return };
    for (pid, dir) in running.iter() {
        // SIGQUIT: immediate shutdown, nothing of a throwaway cluster is worth keeping.
        // SAFETY: kill with a pid we started and a valid signal number.
        unsafe { libc::kill(*pid, libc::SIGQUIT) };
        let pid_file = dir.join("data").join("postmaster.pid");
        let deadline = Instant::now() + Duration::from_secs(5);
        while pid_file.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
