//! A real nginx (Debian's nginx-light, installed by .ci/run) on a free loopback port, speaking
//! HTTP/1.1 or h2c, with as many requests per connection as asked (`keepalive_requests`, which
//! since nginx 1.19.7 also bounds HTTP/2 connections: nginx sends GOAWAY when it is reached).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to configure an [`Nginx`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NginxConfig {
    /// Requests served on one connection before nginx closes it (HTTP/1.1) or sends GOAWAY (h2).
    pub keepalive_requests: u64,
    /// Speak h2c with prior knowledge instead of HTTP/1.1.
    pub http2: bool,
}

impl Default for NginxConfig {
    fn default() -> Self {
        NginxConfig {
            keepalive_requests: 100_000_000,
            http2: false,
        }
    }
}

/// A running nginx with one worker serving a fixed 13-byte body; killed when dropped.
pub struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Start nginx; panics with a hint when it is not installed (tests must not skip silently).
    pub fn start() -> Nginx {
        Nginx::start_with(NginxConfig::default())
    }

    /// Start nginx configured by `config`; panics like [`Nginx::start`].
    pub fn start_with(config: NginxConfig) -> Nginx {
        Nginx::start_site(config, None)
    }

    /// Start nginx serving the files under `root`, with `directives` added to its `server`
    /// block (locations, headers, `gzip on`, `proxy_pass` to a test server); panics like
    /// [`Nginx::start`].
    pub fn serve(root: &Path, directives: &str) -> Nginx {
        Nginx::start_site(NginxConfig::default(), Some((root, directives)))
    }

    fn start_site(config: NginxConfig, site: Option<(&Path, &str)>) -> Nginx {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("nginx is not installed: run .ci/run, or apt-get install nginx-light");
        for _ in 0..5 {
            if let Some(nginx) = Self::try_start(binary, config, site) {
                return nginx;
            }
        }
        panic!("nginx did not start on a free port after 5 attempts");
    }

    fn try_start(
        binary: &str,
        settings: NginxConfig,
        site: Option<(&Path, &str)>,
    ) -> Option<Nginx> {
        let port = crate::closed_port().port();
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
        let config = dir.path().join("nginx.conf");
        std::fs::write(&config, config_text(dir.path(), port, settings, site))
            .expect("write nginx.conf");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let mut nginx = Nginx {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(nginx);
            }
            if let Ok(Some(_)) = nginx.child.try_wait() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = nginx.child.kill();
        None
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its worker too.
        // SAFETY: kill with a pid we spawned and a valid signal number.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn config_text(
    dir: &Path,
    port: u16,
    settings: NginxConfig,
    site: Option<(&Path, &str)>,
) -> String {
    let dir = dir.display();
    let server = match site {
        Some((root, directives)) => format!(
            "root {};\n             include /etc/nginx/mime.types;\n             {directives}\n",
            root.display()
        ),
        None => "location / { return 200 \"hello, plumb\\n\"; }\n".to_owned(),
    };
    let requests = settings.keepalive_requests;
    let http2 = if settings.http2 { " http2" } else { "" };
    format!(
        "worker_processes 1;\n\
         daemon off;\n\
         master_process on;\n\
         pid {dir}/nginx.pid;\n\
         error_log {dir}/logs/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off;\n\
           keepalive_requests {requests};\n\
           client_body_temp_path {dir}/body;\n\
           proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n\
           uwsgi_temp_path {dir}/uwsgi;\n\
           scgi_temp_path {dir}/scgi;\n\
           server {{\n\
             listen 127.0.0.1:{port}{http2};\n\
             {server}\
           }}\n\
         }}\n"
    )
}
