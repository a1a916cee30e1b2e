//! The fixture site (tests/fixtures/site) served by nginx from a temporary copy, with generated
//! files beside it (a 1 MiB script, PNGs of known size), a server that answers `/slow/` after a
//! known delay and one that never answers `/hang/`; and the check that no browser outlived a run.

use plumb_test::{silent_server, Background, Nginx};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The planted delay of the LCP image.
pub const HERO_DELAY: Duration = Duration::from_millis(2000);

/// The generated script's size: 16,384 lines of 64 bytes.
pub const BIG_JS_BYTES: usize = 1 << 20;

/// The photo's size and the size it is displayed at (heavy.html): four times the pixels.
pub const PHOTO: (u32, u32) = (400, 300);

/// The LCP image's size: small, so that decoding it adds little to the planted delay
/// (vitals.html displays it at 600x400).
pub const HERO: (u32, u32) = (150, 100);

/// Page tests run one at a time: each starts browsers on a 2-core machine, and timings are
/// checked.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The site and its servers; stopped when dropped.
pub struct Site {
    nginx: Nginx,
    _root: tempfile::TempDir,
    _slow: std::thread::JoinHandle<()>,
    _hang: Background,
    /// The generated script, as served.
    pub big_js: Vec<u8>,
    /// The generated photo, as served.
    pub photo: Vec<u8>,
}

impl Site {
    /// Copy the fixtures, generate the rest, start the servers.
    pub fn start() -> Site {
        let root = tempfile::tempdir().expect("site dir");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site");
        for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
            let entry = entry.expect("fixture");
            std::fs::copy(entry.path(), root.path().join(entry.file_name())).expect("copy");
        }
        let big_js = big_script();
        std::fs::write(root.path().join("big.js"), &big_js).expect("big.js");
        let photo = png(PHOTO.0, PHOTO.1, 7);
        std::fs::write(root.path().join("photo.png"), &photo).expect("photo.png");
        let (slow_port, slow) = delaying_server(png(HERO.0, HERO.1, 11), HERO_DELAY);
        let hang = silent_server();
        let directives = format!(
            "location /slow/ {{ proxy_pass http://127.0.0.1:{slow_port}; }}\n\
             location /hang/ {{ proxy_pass http://{}; }}",
            hang.addr()
        );
        let nginx = Nginx::serve(root.path(), &directives);
        Site {
            nginx,
            _root: root,
            _slow: slow,
            _hang: hang,
            big_js,
            photo,
        }
    }

    /// The URL of a page of the site.
    pub fn url(&self, page: &str) -> String {
        format!("{}{page}", self.nginx.url())
    }
}

/// 1 MiB of JavaScript comments, 64 bytes a line.
fn big_script() -> Vec<u8> {
    let mut script = Vec::with_capacity(BIG_JS_BYTES);
    for line in 0..BIG_JS_BYTES / 64 {
        let text = format!("// plumb page fixture: padding line {line:06}");
        script.extend_from_slice(format!("{text:<63}\n").as_bytes());
    }
    assert_eq!(script.len(), BIG_JS_BYTES);
    script
}

/// An RGB PNG of noise (so it does not compress: its size is known and large).
pub fn png(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    let mut raw = Vec::new();
    for _row in 0..height {
        // Each row: the filter type (none), then RGB.
        raw.extend(std::iter::once(0u8).chain((0..width * 3).map(|_| noise())));
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&raw).expect("zlib");
    let data = encoder.finish().expect("zlib");
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, body) in [
        (&b"IHDR"[..], &header[..]),
        (b"IDAT", &data),
        (b"IEND", &[]),
    ] {
        file.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(body);
        file.extend_from_slice(kind);
        file.extend_from_slice(body);
        file.extend_from_slice(&crc.sum().to_be_bytes());
    }
    file
}

/// A server that reads a request head, waits `delay`, and answers with `body` as a PNG.
fn delaying_server(body: Vec<u8>, delay: Duration) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                std::thread::sleep(delay);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\
                     Cache-Control: max-age=31536000\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    (port, thread)
}

/// Browser processes that name a temporary directory of plumb-page's (`--user-data-dir`, the
/// crash handlers' `--database`) that is gone: left behind by a run that has ended. (Running
/// tests' browsers still have theirs.)
pub fn leftover_browsers() -> Vec<String> {
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).into_owned();
        let stale = cmdline
            .split('\0')
            .filter_map(plumb_dir)
            .any(|dir| !Path::new(&dir).exists());
        if stale {
            left.push(format!(
                "{}: {}",
                entry.file_name().to_string_lossy(),
                cmdline.replace('\0', " ")
            ));
        }
    }
    left
}

/// `/tmp/plumb-page-XXXX` from an argument that names a path inside it.
fn plumb_dir(arg: &str) -> Option<String> {
    let path = arg.split_once('=').map_or(arg, |(_, value)| value);
    let at = path.find("/plumb-page-")?;
    let end = path[at + 1..].find('/').map_or(path.len(), |i| at + 1 + i);
    Some(path[..end].to_owned())
}

/// Panics naming any browser process left behind.
pub fn assert_no_browser_left() {
    let left = leftover_browsers();
    assert!(left.is_empty(), "browser processes left behind: {left:#?}");
}
