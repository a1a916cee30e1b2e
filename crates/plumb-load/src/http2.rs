//! HTTP/2 exchanges on the `h2` crate's client directly (no pool, no dispatch channel between
//! the request and the connection task): h2 over TLS by ALPN, or h2c with prior knowledge over
//! plain TCP. The connection's driver runs as a local task of the worker's event loop.

use crate::endpoint::{classify_io, Connector, Stream};
use crate::http1::{BodySearch, ExchangeError, Response};
use crate::recorder::{ErrorClass, Failure};
use bytes::Bytes;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

/// One HTTP/2 connection's request handle; its driver runs as a task on the same event loop.
/// Clones share the connection (`-p`: several lanes' streams on one connection).
#[derive(Clone)]
pub(crate) struct H2Connection {
    sender: h2::client::SendRequest<Bytes>,
    /// Set when the connection's driver ended: the connection takes no more streams.
    closed: Rc<Cell<bool>>,
}

/// The parts of every request, built once.
pub(crate) struct H2Request {
    pub method: http::Method,
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// The windows plumb offers (hyper's client defaults): large bodies are not throttled by the
/// protocol's 64 KiB default.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;

impl H2Connection {
    /// Handshake HTTP/2 over a connected stream.
    pub(crate) async fn handshake(stream: Stream) -> Result<H2Connection, Failure> {
        if !Connector::negotiated_h2(&stream) {
            return Err(Failure::new(
                ErrorClass::Tls,
                "the server did not offer h2 by ALPN: drop --http2 to use HTTP/1.1",
            ));
        }
        match stream {
            Stream::Plain(tcp) => Self::start(tcp).await,
            Stream::Tls(tls) => Self::start(*tls).await,
        }
    }

    async fn start<T>(io: T) -> Result<H2Connection, Failure>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
    {
        let (sender, connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| classify_h2(&e))?;
        let closed = Rc::new(Cell::new(false));
        let ended = Rc::clone(&closed);
        tokio::task::spawn_local(async move {
            let _ = connection.await;
            ended.set(true);
        });
        Ok(H2Connection { sender, closed })
    }

    /// Whether the connection takes no more streams (it failed, or a GOAWAY ended it).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Send one request and read its whole response, counting body bytes.
    pub(crate) async fn exchange(
        &mut self,
        request: &H2Request,
        needle: Option<&[u8]>,
    ) -> Result<Response, ExchangeError> {
        let fail = |e: &h2::Error, bytes| {
            let failure = classify_h2(e);
            ExchangeError {
                class: failure.class,
                detail: failure.detail,
                bytes,
            }
        };
        // Polled in place: `ready()` would clone the handle, two locks of h2's state a request.
        std::future::poll_fn(|cx| self.sender.poll_ready(cx))
            .await
            .map_err(|e| fail(&e, 0))?;
        let mut head = http::Request::new(());
        *head.method_mut() = request.method.clone();
        *head.uri_mut() = request.uri.clone();
        head.headers_mut().clone_from(&request.headers);
        let no_body = request.body.is_empty();
        let (response, mut send) = self
            .sender
            .send_request(head, no_body)
            .map_err(|e| fail(&e, 0))?;
        if !no_body {
            send.send_data(request.body.clone(), true)
                .map_err(|e| fail(&e, 0))?;
        }
        let response = response.await.map_err(|e| fail(&e, 0))?;
        let first_byte = Instant::now();
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = 0u64;
        let mut search = needle.map(BodySearch::new);
        while let Some(data) = body.data().await {
            // A stream that failed after its head arrived counts as bytes read: never retried.
            let data = data.map_err(|e| fail(&e, bytes.max(1)))?;
            bytes += data.len() as u64;
            let _ = body.flow_control().release_capacity(data.len());
            if let Some(search) = search.as_mut() {
                search.feed(&data);
            }
        }
        Ok(Response {
            status,
            bytes,
            // After a GOAWAY the connection takes no new streams: open a fresh one next time.
            keep_alive: !self.is_closed(),
            first_byte,
            body_matched: search.map(|s| s.found()),
        })
    }
}

/// An HTTP/2 error: only a stream the server refused (REFUSED_STREAM, or one above a GOAWAY's
/// last stream id, which h2 reports the same way) was never processed and may be sent again
/// (RFC 9113 §8.7); any other reset means the server took the request and failed it.
fn classify_h2(e: &h2::Error) -> Failure {
    if let Some(io) = e.get_io() {
        return classify_io(io);
    }
    if e.is_library() {
        // h2 itself ended the connection: what came back was not HTTP/2 (an HTTP/1.1 server
        // answering 400 to the h2c preface, garbage).
        return Failure::new(ErrorClass::Malformed, NOT_HTTP2);
    }
    match e.reason() {
        Some(h2::Reason::REFUSED_STREAM) => Failure::new(ErrorClass::Closed, REFUSED_STREAM),
        _ if e.is_go_away() && e.reason() == Some(h2::Reason::NO_ERROR) => {
            Failure::new(ErrorClass::Closed, "connection shut down by GOAWAY")
        }
        _ if e.is_go_away() => Failure::new(ErrorClass::Reset, STREAM_FAILED),
        _ if e.is_reset() => Failure::new(ErrorClass::Reset, STREAM_FAILED),
        _ => Failure::new(ErrorClass::Reset, "HTTP/2 protocol error"),
    }
}

/// The detail of an answer that was not HTTP/2.
const NOT_HTTP2: &str =
    "the server did not answer in HTTP/2: does it speak h2 (h2c on plain http)? drop --http2";

/// The detail of a stream the server refused before taking it: sent again once.
pub(crate) const REFUSED_STREAM: &str = "stream refused by the server (REFUSED_STREAM)";

/// The detail of a stream the server accepted and then reset: never retried.
pub(crate) const STREAM_FAILED: &str = "stream reset by the server after it took the request";
