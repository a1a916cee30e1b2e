//! Where results go: stdout, and the files that flags name.
//!
//! Every file a flag names is checked before the run ([`Destination::check`]), so a typo in a path
//! costs nothing but a message, not a ten-minute run. Files are written atomically: a temporary
//! file in the same directory, then a rename, so a full disk or a kill never leaves half a JSON.
//! Devices and FIFOs (`/dev/stdout`, `/dev/full`) are written in place. On stdout a reader that
//! went away (`plumb ... | head`) ends the output quietly; any other failure names stdout.

use anyhow::anyhow;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Set once stdout's reader has gone: later output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Counts temporary files so two in one process never share a name.
static TEMPORARIES: AtomicU32 = AtomicU32::new(0);

/// Write `bytes` to stdout and flush. A closed pipe ends the output without an error; any other
/// failure (a full disk behind `> file`) is an error that names stdout.
pub fn stdout(bytes: &[u8]) -> anyhow::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(anyhow!(
            "cannot write to stdout: {e}\nhint: check where stdout goes (a full disk, a closed file)"
        )),
    }
}

/// Whether stdout's reader has gone (`| head` read what it wanted).
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// A line on stderr; a stderr that cannot be written is not worth a panic.
pub fn log(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// A place a flag sends output to, checked before the run.
#[derive(Debug, Clone)]
pub struct Destination {
    flag: &'static str,
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `-`: stdout.
    Stdout,
    /// A regular file (new or replaced): written to a temporary file, then renamed.
    File,
    /// A device or FIFO that exists: written in place.
    InPlace,
}

impl Destination {
    /// Check that `flag PATH` can be written: its folder exists and takes new files, it is not a
    /// folder itself. `-` means stdout where `stdout_allowed`.
    pub fn check(flag: &'static str, path: &Path, stdout_allowed: bool) -> anyhow::Result<Self> {
        let at = |kind, path: PathBuf| Destination { flag, path, kind };
        if stdout_allowed && path.as_os_str() == "-" {
            return Ok(at(Kind::Stdout, path.to_path_buf()));
        }
        let shown = path.display();
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(anyhow!(
                "{flag} '{shown}' is a directory\nhint: name a file, e.g. {flag} {}",
                path.join("result.json").display()
            )),
            Ok(meta) if !meta.is_file() => {
                may_write_in_place(path, &meta).map_err(|e| cannot_write(flag, path, &e))?;
                Ok(at(Kind::InPlace, path.to_path_buf()))
            }
            // Through a symbolic link, the file it points to is the one replaced.
            Ok(_) => {
                let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                probe_folder(flag, path, &real)?;
                Ok(at(Kind::File, real))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                probe_folder(flag, path, path)?;
                Ok(at(Kind::File, path.to_path_buf()))
            }
            Err(e) => Err(cannot_write(flag, path, &e)),
        }
    }

    /// The file written (for a symbolic link, the file it points to).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is stdout (`-`).
    pub fn is_stdout(&self) -> bool {
        self.kind == Kind::Stdout
    }

    /// Write `bytes` there: stdout, in place, or atomically through a temporary file.
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        let written = match self.kind {
            Kind::Stdout => return stdout(bytes),
            Kind::InPlace => write_in_place(&self.path, bytes),
            Kind::File => write_atomically(&self.path, bytes),
        };
        written.map_err(|e| cannot_write(self.flag, &self.path, &e))
    }
}

/// The folder `real` goes in must exist and take a new file; `shown` is what the user typed.
fn probe_folder(flag: &str, shown: &Path, real: &Path) -> anyhow::Result<()> {
    let folder = folder_of(real);
    match std::fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(anyhow!(
                "{flag} '{}': '{}' is not a directory\nhint: pick a path inside an existing directory",
                shown.display(),
                folder.display()
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(anyhow!(
                "{flag} '{}': the directory '{}' does not exist\nhint: create it first (mkdir -p '{}') or pick another path",
                shown.display(),
                folder.display(),
                folder.display()
            ))
        }
        Err(e) => return Err(cannot_write(flag, shown, &e)),
    }
    let (probe, file) = temporary(real).map_err(|e| cannot_write(flag, shown, &e))?;
    drop(file);
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Whether a device or FIFO takes writes. A FIFO is not opened (that would wait for a reader, or
/// hand it an end of file): its permissions are asked instead.
fn may_write_in_place(path: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    if !meta.file_type().is_fifo() {
        return OpenOptions::new().write(true).open(path).map(drop);
    }
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `c_path` is a valid NUL-terminated string for the duration of the call.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn cannot_write(flag: &str, path: &Path, error: &io::Error) -> anyhow::Error {
    let hint = match error.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => "free some space, or write it to another disk",
        Some(libc::EROFS) => "the file system is read-only; pick a path on a writable one",
        Some(libc::EACCES) | Some(libc::EPERM) => {
            "you may not write there; pick a path in a directory you own"
        }
        _ => "pick a path in an existing, writable directory",
    };
    anyhow!(
        "cannot write {flag} '{}': {error}\nhint: {hint}",
        path.display()
    )
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A new, empty temporary file next to `path` (same directory, so a rename replaces `path`).
fn temporary(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy());
    let n = TEMPORARIES.fetch_add(1, Ordering::Relaxed);
    let temp = folder_of(path).join(format!(".{name}.plumb-{}-{n}.tmp", std::process::id()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    Ok((temp, file))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (temp, mut file) = temporary(path)?;
    let written = (|| {
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_data()?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).truncate(true).open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: anyhow::Result<Destination>) -> String {
        result.expect_err("the check fails").to_string()
    }

    #[test]
    fn a_missing_directory_is_named_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope/out.json");
        let text = message(Destination::check("--json", &path, false));
        assert!(text.starts_with("--json '"), "{text}");
        assert!(
            text.contains("does not exist\nhint: create it first"),
            "{text}"
        );
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = message(Destination::check("--export-csv", dir.path(), false));
        assert!(text.contains("is a directory\nhint: name a file"), "{text}");
    }

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, "old and longer").unwrap();
        let destination = Destination::check("--json", &path, false).unwrap();
        destination.write(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_full_device_is_an_error_naming_the_flag() {
        let destination = Destination::check("--json", Path::new("/dev/full"), false).unwrap();
        let text = destination.write(b"{}").unwrap_err().to_string();
        assert!(
            text.starts_with("cannot write --json '/dev/full': No space left on device"),
            "{text}"
        );
        assert!(text.contains("\nhint: free some space"), "{text}");
    }

    #[test]
    fn a_dash_is_stdout_only_where_allowed() {
        assert!(Destination::check("--json", Path::new("-"), true)
            .unwrap()
            .is_stdout());
    }
}
