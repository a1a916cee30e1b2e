//! Debian's headless Chromium as a test tool: open an HTML file, take a screenshot, and collect
//! what the page wrote to the console (errors included) and its DOM after scripts ran.
//!
//! Console messages come from `--enable-logging=stderr --v=0`, which prints each one as a line
//! with `:CONSOLE:` (measured with a page that calls `console.error` and throws: both appear, in
//! the same run that writes the screenshot), so one start of the browser gives both.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a page showed: the screenshot file and the console lines.
#[derive(Debug)]
pub struct Shot {
    /// The PNG written.
    pub png: PathBuf,
    /// Every console message (`console.log`, `console.error`, uncaught exceptions).
    pub console: Vec<String>,
}

/// The headless browser at `/usr/bin/chromium` (`apt-get install chromium`; `.ci/run` installs it).
pub struct Chromium;

impl Chromium {
    const FLAGS: [&'static str; 9] = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];

    /// Screenshots `html` at `width`×`height` into `html` with `.png` for its extension.
    pub fn screenshot(html: &Path, width: u32, height: u32) -> Result<Shot, String> {
        let png = html.with_extension("png");
        let stderr = Self::run(
            html,
            &[
                format!("--screenshot={}", png.display()),
                format!("--window-size={width},{height}"),
                "--hide-scrollbars".into(),
            ],
        )?
        .1;
        if !png.exists() {
            return Err(format!(
                "chromium wrote no screenshot of {}: {stderr}",
                html.display()
            ));
        }
        Ok(Shot {
            png,
            console: console_lines(&stderr),
        })
    }

    /// The page's DOM after it loaded, and its console lines.
    pub fn dump_dom(html: &Path) -> Result<(String, Vec<String>), String> {
        let (stdout, stderr) = Self::run(html, &["--dump-dom".into()])?;
        Ok((stdout, console_lines(&stderr)))
    }

    fn run(html: &Path, extra: &[String]) -> Result<(String, String), String> {
        let profile = tempfile::tempdir().map_err(|e| format!("a profile directory: {e}"))?;
        let out = Command::new("chromium")
            .args(Self::FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .map_err(|e| format!("chromium did not start ({e}): apt-get install chromium"))?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(format!("chromium failed ({}): {stderr}", out.status));
        }
        Ok((String::from_utf8_lossy(&out.stdout).into_owned(), stderr))
    }
}

fn console_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect()
}

/// The text of an HTML document without its tags (entities for `<`, `>`, `&` decoded), with
/// runs of whitespace made one space: what a person reads on the page.
pub fn page_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
