//! An HTTP/1.1 server that follows a script: it answers correctly, except that every `every`-th
//! request (counted across all its connections) gets a chosen [`Reply`] — a truncated body, half a
//! head, a head dribbled one byte at a time, a bad chunk, silence. It can also close keep-alive
//! connections left idle (like gunicorn's `--keep-alive`) and die halfway through a run.
//!
//! It counts what it saw, so a test can compare the client's accounting with the server's. It
//! speaks plain HTTP, or HTTPS with a certificate from a fresh CA ([`ScriptedServer::start_tls`]).

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio_rustls::TlsAcceptor;

use crate::tls::{ServerCert, TlsFiles};
use crate::Background;

/// The correct answer: 200, a 2-byte body, kept alive.
const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// How long a stalled reply holds its connection at most (the client gives up long before).
const STALL_LIMIT: Duration = Duration::from_secs(10);

/// What the server does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `200 OK` with `Content-Length: 2`, and the connection kept alive.
    Ok,
    /// A correct keep-alive response (no `Connection: close`), then the connection is closed.
    OkThenClose,
    /// `HTTP/1.0 200 OK`, then the connection is closed; the body is framed by `Content-Length`
    /// when `content_length`, else by the close.
    Http10 {
        /// Whether the head carries `Content-Length`.
        content_length: bool,
    },
    /// `302 Found` with `Location: /`: a redirect to itself, forever.
    RedirectToSelf,
    /// Not a byte: the request is read and the connection closed at once (what a stale
    /// keep-alive connection looks like to the client).
    CloseWithoutAnswer,
    /// `Content-Length: 100` but only 5 bytes of body, then the connection is closed.
    TruncatedBody,
    /// Half a head (`HTTP/1.1 200 OK\r\nContent-Le`), then the connection is closed.
    CloseMidHead,
    /// A head of more than 256 KiB (one huge header), then a body.
    HugeHead,
    /// A chunked response whose first chunk-size line is not hexadecimal.
    BadChunkSize,
    /// A correct response's head written one byte at a time, one byte per interval.
    Slowloris(Duration),
    /// Nothing at all: the connection is held open and the request never answered.
    Stall,
    /// `100 Continue`, then nothing.
    ContinueThenStall,
}

/// What a [`ScriptedServer`] does.
#[derive(Debug, Clone)]
pub struct Script {
    /// The reply given to every `every`-th request; the others get [`Reply::Ok`].
    pub reply: Reply,
    /// 1 for every request, 50 for the 50th, 100th, ... (counted across all connections).
    pub every: u64,
    /// Close a kept-alive connection after it has waited this long for its next request.
    pub idle_timeout: Option<Duration>,
    /// After this many [`Reply::Ok`] answers, stop accepting and close every connection.
    pub die_after: Option<u64>,
}

impl Script {
    /// Every request gets `reply`.
    pub fn always(reply: Reply) -> Script {
        Script::one_in(1, reply)
    }

    /// Every `every`-th request gets `reply`, the others a correct answer.
    pub fn one_in(every: u64, reply: Reply) -> Script {
        assert!(every > 0, "every must be at least 1");
        Script {
            reply,
            every,
            idle_timeout: None,
            die_after: None,
        }
    }

    /// Close kept-alive connections idle for `idle`.
    pub fn idle_timeout(mut self, idle: Duration) -> Script {
        self.idle_timeout = Some(idle);
        self
    }

    /// Die after `answers` correct answers.
    pub fn die_after(mut self, answers: u64) -> Script {
        self.die_after = Some(answers);
        self
    }

    fn reply_to(&self, index: u64) -> &Reply {
        if index % self.every == 0 {
            &self.reply
        } else {
            &Reply::Ok
        }
    }
}

/// What the server saw, shared with the test thread.
#[derive(Debug, Default)]
struct Counts {
    connections: AtomicU64,
    requests: AtomicU64,
    answered: AtomicU64,
    scripted: AtomicU64,
}

/// A running [`Script`]; stops when dropped.
pub struct ScriptedServer {
    server: Background,
    counts: Arc<Counts>,
    tls: Option<TlsFiles>,
}

impl ScriptedServer {
    /// Start `script` on 127.0.0.1:0, plain HTTP.
    pub fn start(script: Script) -> ScriptedServer {
        ScriptedServer::start_with(script, None)
    }

    /// Start `script` on 127.0.0.1:0 behind TLS, with a certificate for localhost and 127.0.0.1
    /// signed by the CA in [`ScriptedServer::ca_file`].
    pub fn start_tls(script: Script) -> ScriptedServer {
        let (acceptor, files) = TlsFiles::acceptor(&[b"http/1.1"], ServerCert::Trusted);
        let mut server = ScriptedServer::start_with(script, Some(acceptor));
        server.tls = Some(files);
        server
    }

    fn start_with(script: Script, tls: Option<TlsAcceptor>) -> ScriptedServer {
        let counts = Arc::new(Counts::default());
        let shared = Arc::clone(&counts);
        let server =
            Background::start(move |listener, stop| serve(listener, stop, script, tls, shared));
        ScriptedServer {
            server,
            counts,
            tls: None,
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://ADDR/`, or `https://localhost:PORT/` behind TLS.
    pub fn url(&self) -> String {
        match self.tls {
            None => self.server.url(),
            Some(_) => format!("https://localhost:{}/", self.addr().port()),
        }
    }

    /// The CA certificate (PEM) that signed the server's certificate, behind TLS.
    pub fn ca_file(&self) -> Option<&std::path::PathBuf> {
        self.tls.as_ref().map(TlsFiles::ca_file)
    }

    /// Connections accepted.
    pub fn connections(&self) -> u64 {
        self.counts.connections.load(Ordering::SeqCst)
    }

    /// Request heads read.
    pub fn requests(&self) -> u64 {
        self.counts.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with [`Reply::Ok`] (written in full).
    pub fn answered(&self) -> u64 {
        self.counts.answered.load(Ordering::SeqCst)
    }

    /// Requests that got the script's reply (when that reply is not [`Reply::Ok`]).
    pub fn scripted(&self) -> u64 {
        self.counts.scripted.load(Ordering::SeqCst)
    }
}

async fn serve(
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
    script: Script,
    tls: Option<TlsAcceptor>,
    counts: Arc<Counts>,
) {
    let script = Rc::new(script);
    let dead = Rc::new(Death::default());
    let index = Rc::new(Cell::new(0u64));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    counts.connections.fetch_add(1, Ordering::SeqCst);
                    let conn = Connection {
                        script: Rc::clone(&script),
                        counts: Arc::clone(&counts),
                        index: Rc::clone(&index),
                        dead: Rc::clone(&dead),
                    };
                    match tls.clone() {
                        None => drop(tokio::task::spawn_local(conn.run(stream))),
                        Some(acceptor) => drop(tokio::task::spawn_local(async move {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                conn.run(tls).await;
                            }
                        })),
                    }
                }
            }
            // Returning drops the listener, and the runtime then drops every connection.
            _ = dead.notify.notified() => return,
            _ = stop.changed() => return,
        }
    }
}

/// One connection's view of the server.
struct Connection {
    script: Rc<Script>,
    counts: Arc<Counts>,
    index: Rc<Cell<u64>>,
    dead: Rc<Death>,
}

/// A server's death after `die_after` answers: the flag stops connections that are already
/// running from answering again, and the notify ends the accept loop, which closes the listener;
/// only then does the runtime drop the connections. Closing one earlier would let the client
/// reconnect before the listener is closed, and meet a reset instead of a refusal.
#[derive(Default)]
struct Death {
    dead: Cell<bool>,
    notify: Notify,
}

impl Death {
    async fn die(&self) {
        self.dead.set(true);
        self.notify.notify_one();
        self.wait().await;
    }

    /// Hold the connection until the runtime drops it.
    async fn wait(&self) {
        std::future::pending::<()>().await;
    }
}

/// What reading a request produced.
enum Request {
    Head,
    NotHttp,
    End,
}

/// Whether the connection stays open after a reply.
enum After {
    Keep,
    Close,
}

impl Connection {
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(self, mut stream: S) {
        let mut buf = Vec::with_capacity(4096);
        let mut answered_before = false;
        loop {
            let request = match (answered_before, self.script.idle_timeout) {
                (true, Some(idle)) => {
                    match tokio::time::timeout(idle, read_request(&mut stream, &mut buf)).await {
                        Ok(request) => request,
                        Err(_) => return,
                    }
                }
                _ => read_request(&mut stream, &mut buf).await,
            };
            if self.dead.dead.get() {
                return self.dead.wait().await;
            }
            match request {
                Request::Head => {}
                Request::End => return,
                Request::NotHttp => {
                    // What nginx does with a TLS ClientHello on a plain port.
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
            }
            self.counts.requests.fetch_add(1, Ordering::SeqCst);
            let index = self.index.get() + 1;
            self.index.set(index);
            let reply = self.script.reply_to(index);
            if *reply != Reply::Ok {
                self.counts.scripted.fetch_add(1, Ordering::SeqCst);
            }
            let after = match respond(&mut stream, reply).await {
                Ok(after) => after,
                Err(_) => return,
            };
            if *reply == Reply::Ok {
                let answered = self.counts.answered.fetch_add(1, Ordering::SeqCst) + 1;
                if self.script.die_after == Some(answered) {
                    return self.dead.die().await;
                }
            }
            if let After::Close = after {
                // Behind TLS this sends close_notify; an idle timeout (below) just drops it.
                let _ = stream.shutdown().await;
                return;
            }
            answered_before = true;
        }
    }
}

/// Read up to the end of one request head (requests are GETs: no body), or tell why not.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Request {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            return Request::Head;
        }
        if buf.first().is_some_and(|b| !b.is_ascii_alphabetic()) {
            return Request::NotHttp;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Request::End,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn respond<S>(stream: &mut S, reply: &Reply) -> std::io::Result<After>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match reply {
        Reply::Ok => write(stream, OK, After::Keep).await,
        Reply::OkThenClose => write(stream, OK, After::Close).await,
        Reply::Http10 { content_length } => {
            let bytes: &[u8] = if *content_length {
                b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
            } else {
                b"HTTP/1.0 200 OK\r\n\r\nok"
            };
            write(stream, bytes, After::Close).await
        }
        Reply::RedirectToSelf => {
            let bytes = b"HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n";
            write(stream, bytes, After::Keep).await
        }
        Reply::CloseWithoutAnswer => Ok(After::Close),
        Reply::TruncatedBody => {
            let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
            write(stream, bytes, After::Close).await
        }
        Reply::CloseMidHead => write(stream, b"HTTP/1.1 200 OK\r\nContent-Le", After::Close).await,
        Reply::HugeHead => {
            let mut bytes = b"HTTP/1.1 200 OK\r\nX-Huge: ".to_vec();
            bytes.resize(bytes.len() + 256 * 1024, b'a');
            bytes.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\nok");
            write(stream, &bytes, After::Keep).await
        }
        Reply::BadChunkSize => {
            let bytes =
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n";
            write(stream, bytes, After::Keep).await
        }
        Reply::Slowloris(every) => {
            for byte in OK {
                tokio::time::sleep(*every).await;
                stream.write_all(std::slice::from_ref(byte)).await?;
            }
            Ok(After::Keep)
        }
        Reply::Stall => {
            hold(stream).await;
            Ok(After::Close)
        }
        Reply::ContinueThenStall => {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
            hold(stream).await;
            Ok(After::Close)
        }
    }
}

async fn write<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
    after: After,
) -> std::io::Result<After> {
    stream.write_all(bytes).await?;
    stream.flush().await?;
    Ok(after)
}

/// Keep the connection open, reading and ignoring, until the client leaves (or a long limit).
async fn hold<S: AsyncRead + Unpin>(stream: &mut S) {
    let _ = tokio::time::timeout(STALL_LIMIT, async {
        let mut sink = [0u8; 4096];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
