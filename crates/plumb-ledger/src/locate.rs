//! Where the ledger lives: `--ledger PATH` or `PLUMB_LEDGER` when given, otherwise
//! `.plumb/ledger.db` in the nearest ancestor that has a `.plumb` directory, like `.git`.

use std::path::{Path, PathBuf};

/// The directory that holds the ledger.
pub const LEDGER_DIR: &str = ".plumb";
/// The database's file name inside [`LEDGER_DIR`].
pub const LEDGER_FILE: &str = "ledger.db";

/// The ledger's path: `explicit` (the flag or the environment variable) when given; else
/// `.plumb/ledger.db` in the nearest ancestor of `cwd` with a `.plumb` directory; else next to the
/// nearest `.git` (the repository's root); else in `cwd` itself.
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    let with = |name: &str| cwd.ancestors().find(|dir| dir.join(name).exists());
    let root = with(LEDGER_DIR).or_else(|| with(".git")).unwrap_or(cwd);
    root.join(LEDGER_DIR).join(LEDGER_FILE)
}
