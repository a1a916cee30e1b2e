//! HTTP/2 exchanges through hyper's low-level client connection (no pool): h2 over TLS by ALPN,
//! or h2c with prior knowledge over plain TCP.

use crate::endpoint::{classify_io, Connector, Stream};
use crate::http1::{BodySearch, ExchangeError, Response};
use crate::recorder::{ErrorClass, Failure};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Instant;

/// One HTTP/2 connection's request handle; its driver runs as a task on the same event loop.
/// Clones share the connection (`-p`: several lanes' streams on one connection).
#[derive(Clone)]
pub(crate) struct H2Connection {
    sender: SendRequest<Full<Bytes>>,
}

/// The parts of every request, built once.
pub(crate) struct H2Request {
    pub method: http::Method,
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

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
            Stream::Plain(tcp) => Self::start(TokioIo::new(tcp)).await,
            Stream::Tls(tls) => Self::start(TokioIo::new(tls)).await,
        }
    }

    async fn start<T>(io: TokioIo<T>) -> Result<H2Connection, Failure>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .handshake(io)
            .await
            .map_err(|e| classify_hyper(&e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(H2Connection { sender })
    }

    /// Whether the connection takes no more streams (it failed, or a GOAWAY ended it).
    pub(crate) fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Send one request and read its whole response, counting body bytes.
    pub(crate) async fn exchange(
        &mut self,
        request: &H2Request,
        needle: Option<&[u8]>,
    ) -> Result<Response, ExchangeError> {
        let fail = |failure: Failure, bytes| ExchangeError {
            class: failure.class,
            detail: failure.detail,
            bytes,
        };
        self.sender
            .ready()
            .await
            .map_err(|e| fail(classify_hyper(&e), 0))?;
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(request.uri.clone());
        if let Some(headers) = builder.headers_mut() {
            headers.clone_from(&request.headers);
        }
        let req = builder
            .body(Full::new(request.body.clone()))
            .map_err(|_| fail(ErrorClass::Io.into(), 0))?;
        let response = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| fail(classify_hyper(&e), 0))?;
        let first_byte = Instant::now();
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = 0u64;
        let mut search = needle.map(BodySearch::new);
        while let Some(frame) = body.frame().await {
            // A stream that failed after its head arrived counts as bytes read: never retried.
            let frame = frame.map_err(|e| fail(classify_hyper(&e), bytes.max(1)))?;
            if let Some(data) = frame.data_ref() {
                bytes += data.len() as u64;
                if let Some(search) = search.as_mut() {
                    search.feed(data);
                }
            }
        }
        Ok(Response {
            status,
            bytes,
            // After a GOAWAY the connection takes no new streams: open a fresh one next time.
            keep_alive: !self.sender.is_closed(),
            first_byte,
            body_matched: search.map(|s| s.found()),
        })
    }
}

fn classify_hyper(e: &hyper::Error) -> Failure {
    use std::error::Error as _;
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            return classify_h2(h2);
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return classify_io(io);
        }
        source = cause.source();
    }
    let class = if e.is_parse() || e.is_parse_status() {
        ErrorClass::Malformed
    } else if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        ErrorClass::Closed
    } else if e.is_timeout() {
        ErrorClass::Timeout
    } else {
        ErrorClass::Reset
    };
    class.into()
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
