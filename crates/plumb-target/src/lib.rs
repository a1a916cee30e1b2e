//! The embedded HTTP target of plumb, with knobs for latency, stalls, errors and response size.
//!
//! It backs `plumb target`, `plumb demo`, the tests, and users calibrating their setup: a target
//! whose behaviour is known, so a load test's numbers can be checked against the truth.
//! HTTP/1.1 and HTTP/2 (h2c) are served on the same port.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rand::Rng;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long the target takes to answer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Latency {
    /// Answer at once.
    #[default]
    None,
    /// Always this long.
    Fixed(Duration),
    /// Uniformly random between the two bounds.
    Uniform(Duration, Duration),
}

/// A periodic stall: during the last `length` of every `every`, requests wait for the stall to end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stall {
    /// How long each stall lasts.
    pub length: Duration,
    /// The period.
    pub every: Duration,
}

/// The target's knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSettings {
    /// Added latency per request.
    pub latency: Latency,
    /// A periodic stall (a GC pause, a lock convoy).
    pub stall: Option<Stall>,
    /// Fraction of requests answered `500` (0.0 to 1.0).
    pub error_rate: f64,
    /// Response body size in bytes.
    pub body_size: usize,
}

impl Default for TargetSettings {
    fn default() -> Self {
        TargetSettings {
            latency: Latency::None,
            stall: None,
            error_rate: 0.0,
            body_size: 13,
        }
    }
}

/// The knobs in plain words, e.g. `latency 1ms..3ms, a 300ms stall every 2s, 0% errors,
/// 1024-byte bodies`.
impl fmt::Display for TargetSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.latency {
            Latency::None => f.write_str("no added latency")?,
            Latency::Fixed(d) => write!(f, "latency {}", words(d))?,
            Latency::Uniform(lo, hi) => write!(f, "latency {}..{}", words(lo), words(hi))?,
        }
        match self.stall {
            None => f.write_str(", no stalls")?,
            Some(s) => write!(f, ", a {} stall every {}", words(s.length), words(s.every))?,
        }
        let bytes = if self.body_size == 1 { "byte" } else { "bytes" };
        write!(
            f,
            ", {}% errors, {} {bytes} per body",
            (self.error_rate * 100.0 * 1e6).round() / 1e6,
            self.body_size
        )
    }
}

/// A duration as a person writes it: `300ms`, `2s`, `1m 30s`.
fn words(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The target's behaviour, shared by all connections.
struct Behaviour {
    settings: TargetSettings,
    body: Bytes,
    started: Instant,
}

impl Behaviour {
    fn new(settings: TargetSettings) -> Behaviour {
        let body = Bytes::from(body_of(settings.body_size));
        Behaviour {
            settings,
            body,
            started: Instant::now(),
        }
    }

    /// How long a request arriving now waits: the rest of a stall plus the latency knob.
    fn delay(&self) -> Duration {
        let stall = self.settings.stall.map_or(Duration::ZERO, |s| {
            stall_remaining(self.started.elapsed(), s)
        });
        let latency = match self.settings.latency {
            Latency::None => Duration::ZERO,
            Latency::Fixed(d) => d,
            Latency::Uniform(lo, hi) if hi > lo => rand::rng().random_range(lo..=hi),
            Latency::Uniform(lo, _) => lo,
        };
        stall + latency
    }

    async fn respond(&self, _request: Request<Incoming>) -> Response<Full<Bytes>> {
        let delay = self.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let failed = self.settings.error_rate > 0.0
            && rand::rng().random_bool(self.settings.error_rate.clamp(0.0, 1.0));
        let mut response = Response::new(Full::new(if failed {
            Bytes::from_static(b"planted error\n")
        } else {
            self.body.clone()
        }));
        if failed {
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        }
        response
    }
}

/// How much of a stall remains for a request arriving at `elapsed` since the target started.
pub fn stall_remaining(elapsed: Duration, stall: Stall) -> Duration {
    if stall.every.is_zero() || stall.length.is_zero() {
        return Duration::ZERO;
    }
    let every = stall.every.as_nanos();
    let phase = elapsed.as_nanos() % every;
    let stall_begins = every.saturating_sub(stall.length.as_nanos());
    if phase >= stall_begins {
        Duration::from_nanos((every - phase) as u64)
    } else {
        Duration::ZERO
    }
}

fn body_of(size: usize) -> Vec<u8> {
    const LINE: &[u8] = b"hello, plumb\n";
    LINE.iter().copied().cycle().take(size).collect()
}

/// A target serving in the background; stops when dropped or on [`RunningTarget::shutdown`].
pub struct RunningTarget {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningTarget {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` with `path` appended.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stop serving and wait for the server thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningTarget {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start the target on `bind` (port 0 picks a free port) on its own runtime with `threads` workers.
pub fn spawn(
    settings: TargetSettings,
    bind: SocketAddr,
    threads: usize,
) -> std::io::Result<RunningTarget> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("plumb-target")
        .enable_all()
        .build()?;
    let listener = runtime.block_on(TcpListener::bind(bind))?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("plumb-target-accept".into())
        .spawn(move || runtime.block_on(serve(listener, settings, stopped)))?;
    Ok(RunningTarget {
        addr,
        shutdown,
        thread: Some(thread),
    })
}

/// Serve connections from `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    settings: TargetSettings,
    mut stop: watch::Receiver<bool>,
) {
    let behaviour = Arc::new(Behaviour::new(settings));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_connection(stream, Arc::clone(&behaviour)));
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Serve one accepted connection (HTTP/1.1 or h2c) with the given knobs; used for TLS by tests.
pub async fn serve_io<I>(io: I, settings: TargetSettings)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_connection(io, Arc::new(Behaviour::new(settings))).await;
}

async fn serve_connection<I>(io: I, behaviour: Arc<Behaviour>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let behaviour = Arc::clone(&behaviour);
        async move { Ok::<_, Infallible>(behaviour.respond(request).await) }
    });
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_covers_the_end_of_each_period() {
        let stall = Stall {
            length: Duration::from_secs(1),
            every: Duration::from_secs(5),
        };
        assert_eq!(
            stall_remaining(Duration::from_millis(3_900), stall),
            Duration::ZERO
        );
        assert_eq!(
            stall_remaining(Duration::from_millis(4_250), stall),
            Duration::from_millis(750)
        );
        assert_eq!(
            stall_remaining(Duration::from_millis(9_500), stall),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn settings_read_as_plain_words() {
        assert_eq!(
            TargetSettings::default().to_string(),
            "no added latency, no stalls, 0% errors, 13 bytes per body"
        );
        let planted = TargetSettings {
            latency: Latency::Uniform(Duration::from_millis(1), Duration::from_millis(3)),
            stall: Some(Stall {
                length: Duration::from_millis(300),
                every: Duration::from_secs(2),
            }),
            error_rate: 0.07,
            body_size: 1,
        };
        assert_eq!(
            planted.to_string(),
            "latency 1ms..3ms, a 300ms stall every 2s, 7% errors, 1 byte per body"
        );
    }

    #[test]
    fn body_has_the_asked_size() {
        assert_eq!(body_of(0).len(), 0);
        assert_eq!(body_of(1000).len(), 1000);
    }
}
