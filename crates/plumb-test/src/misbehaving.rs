//! Servers that misbehave on purpose: one that resets, one that speaks garbage, one that never
//! answers, one that speaks only HTTP/2 (and two of those that go away after every few streams:
//! gracefully, or refusing a stream), and a port where nothing listens.

use crate::{accept_each, Background};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An address on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr
}

/// Reads each request, then resets the connection (RST, via SO_LINGER 0).
pub fn reset_server() -> Background {
    Background::start(|listener, stop| {
        accept_each(listener, stop, |mut stream: TcpStream| async move {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream.set_zero_linger();
            drop(stream);
        })
    })
}

/// Answers every request with bytes that are not HTTP.
pub fn garbage_server() -> Background {
    Background::start(|listener, stop| {
        accept_each(listener, stop, |mut stream: TcpStream| async move {
            let mut buf = [0u8; 4096];
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {
                if stream
                    .write_all(b"\x16\x03\x01 this is not http\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
            }
        })
    })
}

/// Accepts and reads, but never answers.
pub fn silent_server() -> Background {
    Background::start(|listener, stop| {
        accept_each(listener, stop, |mut stream: TcpStream| async move {
            let mut buf = [0u8; 4096];
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        })
    })
}

/// Speaks only HTTP/2 with prior knowledge (h2c): an HTTP/1.1 client gets nothing useful.
pub fn h2_only_server() -> Background {
    Background::start(|listener, stop| {
        accept_each(listener, stop, |stream: TcpStream| async move {
            let service = hyper::service::service_fn(|_request| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                    Bytes::from_static(b"h2 only\n"),
                )))
            });
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        })
    })
}

/// An h2c server (prior knowledge) that shuts each connection down gracefully, with GOAWAY, once
/// it has taken `streams` requests on it: what nginx does after `keepalive_requests`.
pub struct H2GoawayServer {
    server: Background,
    served: Arc<AtomicU64>,
}

impl H2GoawayServer {
    /// Start it; every connection takes `streams` requests (a few more may slip in before the
    /// final GOAWAY), then goes away.
    pub fn start(streams: u64) -> H2GoawayServer {
        let served = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&served);
        let server = Background::start(move |listener, stop| {
            accept_each(listener, stop, move |stream: TcpStream| {
                serve_until_goaway(stream, streams, Arc::clone(&counter))
            })
        });
        H2GoawayServer { server, served }
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests answered, over all connections.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }
}

async fn serve_until_goaway(stream: TcpStream, streams: u64, served: Arc<AtomicU64>) {
    let on_this = Arc::new(AtomicU64::new(0));
    let limit = Arc::new(tokio::sync::Notify::new());
    let service = {
        let limit = Arc::clone(&limit);
        hyper::service::service_fn(move |_request| {
            served.fetch_add(1, Ordering::SeqCst);
            if on_this.fetch_add(1, Ordering::SeqCst) + 1 == streams {
                limit.notify_one();
            }
            async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                    Bytes::from_static(b"ok"),
                )))
            }
        })
    };
    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = limit.notified() => {}
    }
    // GOAWAY; streams already taken are answered, later ones are refused.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// What an [`H2StreamServer`] does to streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Fault {
    /// Answer this many streams on each connection, then refuse the next one with
    /// `RST_STREAM(REFUSED_STREAM)` and shut the connection down with GOAWAY: the request was not
    /// processed, so a client may send it again (RFC 9113, 8.7).
    RefuseAfter(u64),
    /// Reset every `n`-th stream (counted across connections) with `RST_STREAM(INTERNAL_ERROR)`
    /// and answer the others: the request may have been processed, so it must not be sent again.
    InternalErrorEvery(u64),
}

/// An h2c server (prior knowledge, on the `h2` crate directly, which can reset single streams).
pub struct H2StreamServer {
    server: Background,
    counts: Arc<H2Counts>,
}

#[derive(Debug, Default)]
struct H2Counts {
    served: AtomicU64,
    reset: AtomicU64,
}

impl H2StreamServer {
    /// Start it with `fault`.
    pub fn start(fault: H2Fault) -> H2StreamServer {
        let counts = Arc::new(H2Counts::default());
        let shared = Arc::clone(&counts);
        let server = Background::start(move |listener, stop| {
            accept_each(listener, stop, move |stream: TcpStream| {
                serve_h2_streams(stream, fault, Arc::clone(&shared))
            })
        });
        H2StreamServer { server, counts }
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests answered, over all connections.
    pub fn served(&self) -> u64 {
        self.counts.served.load(Ordering::SeqCst)
    }

    /// Streams reset (refused, or failed with an internal error), over all connections.
    pub fn reset(&self) -> u64 {
        self.counts.reset.load(Ordering::SeqCst)
    }
}

async fn serve_h2_streams(stream: TcpStream, fault: H2Fault, counts: Arc<H2Counts>) {
    let Ok(mut connection) = h2::server::handshake(stream).await else {
        return;
    };
    let mut answered = 0;
    while let Some(Ok((_request, mut respond))) = connection.accept().await {
        let streams = counts.served.load(Ordering::SeqCst) + counts.reset.load(Ordering::SeqCst);
        match fault {
            H2Fault::RefuseAfter(limit) if answered == limit => {
                counts.reset.fetch_add(1, Ordering::SeqCst);
                respond.send_reset(h2::Reason::REFUSED_STREAM);
                connection.abrupt_shutdown(h2::Reason::NO_ERROR);
                continue;
            }
            H2Fault::InternalErrorEvery(n) if (streams + 1) % n == 0 => {
                counts.reset.fetch_add(1, Ordering::SeqCst);
                respond.send_reset(h2::Reason::INTERNAL_ERROR);
                continue;
            }
            _ => {}
        }
        let Ok(mut body) = respond.send_response(hyper::Response::new(()), false) else {
            return;
        };
        if body.send_data(Bytes::from_static(b"ok"), true).is_err() {
            return;
        }
        answered += 1;
        counts.served.fetch_add(1, Ordering::SeqCst);
    }
}

/// An h2c server (prior knowledge) that holds every response for `delay` and records, per
/// connection, the most streams it had open at once: what `plumb load --http2 -p N` multiplexes.
pub struct H2ConcurrencyServer {
    server: Background,
    peaks: Arc<std::sync::Mutex<Vec<u64>>>,
    served: Arc<AtomicU64>,
}

impl H2ConcurrencyServer {
    /// Start it; every response waits `delay` before it is sent.
    pub fn start(delay: std::time::Duration) -> H2ConcurrencyServer {
        H2ConcurrencyServer::start_limited(delay, 1_000)
    }

    /// Start it allowing at most `max_streams` concurrent streams per connection (SETTINGS): a
    /// client that opens more before the SETTINGS arrive has the excess refused.
    pub fn start_limited(delay: std::time::Duration, max_streams: u32) -> H2ConcurrencyServer {
        let peaks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let served = Arc::new(AtomicU64::new(0));
        let (all_peaks, all_served) = (Arc::clone(&peaks), Arc::clone(&served));
        let server = Background::start(move |listener, stop| {
            accept_each(listener, stop, move |stream: TcpStream| {
                let peaks = Arc::clone(&all_peaks);
                let served = Arc::clone(&all_served);
                async move {
                    let slot = {
                        let mut peaks = peaks.lock().unwrap();
                        peaks.push(0);
                        peaks.len() - 1
                    };
                    serve_counting_streams(stream, delay, max_streams, peaks, slot, served).await;
                }
            })
        });
        H2ConcurrencyServer {
            server,
            peaks,
            served,
        }
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Per connection accepted, in order: the most streams open on it at once.
    pub fn peaks(&self) -> Vec<u64> {
        self.peaks.lock().unwrap().clone()
    }

    /// Requests answered, over all connections.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }
}

async fn serve_counting_streams(
    stream: TcpStream,
    delay: std::time::Duration,
    max_streams: u32,
    peaks: Arc<std::sync::Mutex<Vec<u64>>>,
    slot: usize,
    served: Arc<AtomicU64>,
) {
    let open = Arc::new(AtomicU64::new(0));
    let service = hyper::service::service_fn(move |_request| {
        let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut peaks = peaks.lock().unwrap();
            peaks[slot] = peaks[slot].max(now_open);
        }
        let (open, served) = (Arc::clone(&open), Arc::clone(&served));
        async move {
            tokio::time::sleep(delay).await;
            open.fetch_sub(1, Ordering::SeqCst);
            served.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                b"ok",
            ))))
        }
    });
    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .max_concurrent_streams(max_streams)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
