//! plumb's own HTTP/1.1 client hot path: the request serialized once, responses parsed in place.
//!
//! wrk's lesson: write the same bytes every time and parse only what is needed (status, framing,
//! connection). Headers are parsed by `httparse`; bodies are counted, not kept, unless a body check
//! needs them, and even then only a window as long as the searched text is kept.

use crate::endpoint::classify_io;
use crate::recorder::{ErrorClass, Failure};
use crate::settings::LoadSettings;
use bytes::{Buf, BytesMut};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest response head accepted before calling the response malformed.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;

/// Serialize the request once: request line, Host, User-Agent, user headers, Content-Length, body.
pub(crate) fn encode_request(settings: &LoadSettings, authority: &str, path: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + settings.body.len());
    out.extend_from_slice(format!("{} {} HTTP/1.1\r\n", settings.method, path).as_bytes());
    let has = |name: &str| {
        settings
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if !has("host") {
        out.extend_from_slice(format!("Host: {authority}\r\n").as_bytes());
    }
    if !has("user-agent") {
        out.extend_from_slice(
            format!("User-Agent: plumb/{}\r\n", env!("CARGO_PKG_VERSION")).as_bytes(),
        );
    }
    for (name, value) in &settings.headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    let method_has_body = !matches!(
        settings.method.as_str(),
        "GET" | "HEAD" | "DELETE" | "OPTIONS"
    );
    if !has("content-length") && (!settings.body.is_empty() || method_has_body) {
        out.extend_from_slice(format!("Content-Length: {}\r\n", settings.body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&settings.body);
    out
}

/// What one exchange produced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Response {
    pub status: u16,
    pub bytes: u64,
    pub keep_alive: bool,
    pub first_byte: Instant,
    /// `Some(false)` when a body check was asked for and the text was missing.
    pub body_matched: Option<bool>,
}

/// A failed exchange: its class, the reason where known, and the bytes read before it failed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExchangeError {
    pub class: ErrorClass,
    pub detail: Option<&'static str>,
    pub bytes: u64,
}

impl ExchangeError {
    /// A failure that happened before any byte of the response was read.
    pub(crate) fn before_response(failure: impl Into<Failure>) -> ExchangeError {
        let failure = failure.into();
        ExchangeError {
            class: failure.class,
            detail: failure.detail,
            bytes: 0,
        }
    }

    /// What to count.
    pub(crate) fn failure(&self) -> Failure {
        Failure {
            class: self.class,
            detail: self.detail,
        }
    }
}

/// Searches a body for a text as it streams past, keeping only the last `needle.len() - 1` bytes
/// between pieces: memory stays bounded whatever the body's size.
pub(crate) struct BodySearch<'n> {
    needle: &'n [u8],
    window: Vec<u8>,
    found: bool,
}

impl<'n> BodySearch<'n> {
    pub(crate) fn new(needle: &'n [u8]) -> BodySearch<'n> {
        BodySearch {
            needle,
            window: Vec::with_capacity(needle.len() * 2),
            found: needle.is_empty(),
        }
    }

    /// Look at the next piece of the body.
    pub(crate) fn feed(&mut self, piece: &[u8]) {
        if self.found || piece.is_empty() {
            return;
        }
        let keep = self.needle.len() - 1;
        let head = piece.len().min(keep);
        // Across the seam: the kept tail and the start of this piece.
        self.window.extend_from_slice(&piece[..head]);
        if memchr::memmem::find(&self.window, self.needle).is_some()
            || memchr::memmem::find(piece, self.needle).is_some()
        {
            self.found = true;
            return;
        }
        if piece.len() >= keep {
            self.window.clear();
            self.window.extend_from_slice(&piece[piece.len() - keep..]);
        } else {
            let excess = self.window.len().saturating_sub(keep);
            self.window.drain(..excess);
        }
    }

    pub(crate) fn found(&self) -> bool {
        self.found
    }
}

/// What a flow step keeps of a response: its headers always (for cookies and header captures),
/// its body only when a capture or check reads it, and then at most [`MAX_KEPT_BODY`] bytes.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
    pub keep_body: bool,
    /// Keep every header (a header capture reads one), not only `Set-Cookie`.
    pub keep_all_headers: bool,
}

/// The most body bytes a flow step keeps for its captures and checks.
pub(crate) const MAX_KEPT_BODY: usize = 4 * 1024 * 1024;

impl Kept {
    fn set_headers(&mut self, head: &[u8]) {
        self.headers.clear();
        self.body.clear();
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        if response.parse(head).is_ok() {
            for h in response.headers.iter() {
                if self.keep_all_headers || h.name.eq_ignore_ascii_case("set-cookie") {
                    self.headers
                        .push((h.name.to_ascii_lowercase().into_bytes(), h.value.to_vec()));
                }
            }
        }
    }

    fn push_body(&mut self, piece: &[u8]) {
        if self.keep_body {
            let room = MAX_KEPT_BODY.saturating_sub(self.body.len());
            self.body.extend_from_slice(&piece[..piece.len().min(room)]);
        }
    }
}

/// Write the request and read one complete response, keeping what `kept` asks for.
pub(crate) async fn exchange_keeping<S>(
    stream: &mut S,
    request: &[u8],
    buf: &mut BytesMut,
    head_request: bool,
    kept: &mut Kept,
) -> Result<Response, ExchangeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io_error = |e: std::io::Error| ExchangeError::before_response(classify_io(&e));
    stream.write_all(request).await.map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    let mut reader = Reader {
        stream,
        buf,
        bytes: 0,
        first_byte: None,
        kept: Some(kept),
    };
    reader.response(head_request, None).await
}

/// Write the request and read one complete response.
pub(crate) async fn exchange<S>(
    stream: &mut S,
    request: &[u8],
    buf: &mut BytesMut,
    head_request: bool,
    body_needle: Option<&[u8]>,
) -> Result<Response, ExchangeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io_error = |e: std::io::Error| ExchangeError::before_response(classify_io(&e));
    stream.write_all(request).await.map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    let mut reader = Reader {
        stream,
        buf,
        bytes: 0,
        first_byte: None,
        kept: None,
    };
    reader.response(head_request, body_needle).await
}

struct Reader<'a, S> {
    stream: &'a mut S,
    buf: &'a mut BytesMut,
    bytes: u64,
    first_byte: Option<Instant>,
    /// A flow step's copy of the headers and body.
    kept: Option<&'a mut Kept>,
}

/// How the body of a response is delimited.
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

struct Head {
    status: u16,
    framing: Framing,
    keep_alive: bool,
    len: usize,
}

impl<S: AsyncRead + Unpin> Reader<'_, S> {
    async fn response(
        &mut self,
        head_request: bool,
        needle: Option<&[u8]>,
    ) -> Result<Response, ExchangeError> {
        let head = loop {
            let head = self.head(head_request).await?;
            if let Some(kept) = self.kept.as_deref_mut() {
                kept.set_headers(&self.buf[..head.len]);
            }
            self.buf.advance(head.len);
            // 1xx interim responses (100 Continue) precede the real one.
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
            }
        };
        let mut body = needle.map(BodySearch::new);
        let keep_alive = match head.framing {
            Framing::Empty => head.keep_alive,
            Framing::Length(n) => {
                self.body_of_length(n, body.as_mut()).await?;
                head.keep_alive
            }
            Framing::Chunked => {
                self.chunked_body(body.as_mut()).await?;
                head.keep_alive
            }
            Framing::UntilClose => {
                self.body_until_close(body.as_mut()).await?;
                false
            }
        };
        // Bytes beyond the response mean the stream is out of step: do not reuse it.
        let keep_alive = keep_alive && self.buf.is_empty();
        self.buf.clear();
        Ok(Response {
            status: head.status,
            bytes: self.bytes,
            keep_alive,
            first_byte: self.first_byte.unwrap_or_else(Instant::now),
            body_matched: body.map(|search| search.found()),
        })
    }

    /// Read until a whole head is buffered and parse it.
    async fn head(&mut self, head_request: bool) -> Result<Head, ExchangeError> {
        loop {
            if !self.buf.is_empty() {
                if let Some(head) = self.parse_head(head_request)? {
                    return Ok(head);
                }
                if self.buf.len() > MAX_HEAD_BYTES {
                    return Err(self
                        .fail_because(ErrorClass::Malformed, "response head larger than 64 KiB"));
                }
            }
            if self.fill().await? == 0 {
                let detail = if self.bytes == 0 {
                    "closed before any byte of the response"
                } else {
                    "closed in the middle of the response head"
                };
                return Err(self.fail_because(ErrorClass::Closed, detail));
            }
        }
    }

    fn parse_head(&self, head_request: bool) -> Result<Option<Head>, ExchangeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let len = match response.parse(self.buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => {
                return Err(self.fail_because(ErrorClass::Malformed, malformed_head(self.buf)))
            }
        };
        let status = response.code.unwrap_or(0);
        let mut keep_alive = response.version == Some(1);
        let mut length = None;
        let mut chunked = false;
        for header in response.headers.iter() {
            if header.name.eq_ignore_ascii_case("content-length") {
                let parsed = std::str::from_utf8(header.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok());
                length = Some(parsed.ok_or_else(|| {
                    self.fail_because(ErrorClass::Malformed, "invalid Content-Length")
                })?);
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = contains_token(header.value, b"chunked");
            } else if header.name.eq_ignore_ascii_case("connection") {
                if contains_token(header.value, b"close") {
                    keep_alive = false;
                } else if contains_token(header.value, b"keep-alive") {
                    keep_alive = true;
                }
            }
        }
        let no_body =
            head_request || status == 204 || status == 304 || (100..200).contains(&status);
        let framing = match (no_body, chunked, length) {
            (true, _, _) => Framing::Empty,
            (false, true, _) => Framing::Chunked,
            (false, false, Some(0)) => Framing::Empty,
            (false, false, Some(n)) => Framing::Length(n),
            (false, false, None) => Framing::UntilClose,
        };
        Ok(Some(Head {
            status,
            framing,
            keep_alive,
            len,
        }))
    }

    async fn body_of_length(
        &mut self,
        mut remaining: u64,
        mut body: Option<&mut BodySearch<'_>>,
    ) -> Result<(), ExchangeError> {
        loop {
            let take = remaining.min(self.buf.len() as u64) as usize;
            if let Some(body) = body.as_deref_mut() {
                body.feed(&self.buf[..take]);
            }
            if let Some(kept) = self.kept.as_deref_mut() {
                kept.push_body(&self.buf[..take]);
            }
            self.buf.advance(take);
            remaining -= take as u64;
            if remaining == 0 {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return Err(self.fail_because(
                    ErrorClass::Closed,
                    "closed in the middle of the response body",
                ));
            }
        }
    }

    async fn chunked_body(
        &mut self,
        mut body: Option<&mut BodySearch<'_>>,
    ) -> Result<(), ExchangeError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(self.buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.buf.advance(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.buf.len() > MAX_HEAD_BYTES {
                            return Err(self
                                .fail_because(ErrorClass::Malformed, "chunk-size line too long"));
                        }
                        if self.fill().await? == 0 {
                            return Err(self.fail_because(
                                ErrorClass::Closed,
                                "closed in the middle of a chunked body",
                            ));
                        }
                    }
                    Err(_) => {
                        return Err(
                            self.fail_because(ErrorClass::Malformed, "invalid chunk-size line")
                        )
                    }
                }
            };
            if size == 0 {
                return self.trailers().await;
            }
            self.body_of_length(size, body.as_deref_mut()).await?;
            self.expect_crlf().await?;
        }
    }

    /// After the last chunk: optional trailer lines, then an empty line.
    async fn trailers(&mut self) -> Result<(), ExchangeError> {
        loop {
            if let Some(end) = memchr::memmem::find(self.buf, b"\r\n") {
                self.buf.advance(end + 2);
                if end == 0 {
                    return Ok(());
                }
                continue;
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(self.fail_because(ErrorClass::Malformed, "trailers larger than 64 KiB"));
            }
            if self.fill().await? == 0 {
                return Err(
                    self.fail_because(ErrorClass::Closed, "closed in the middle of a chunked body")
                );
            }
        }
    }

    async fn expect_crlf(&mut self) -> Result<(), ExchangeError> {
        while self.buf.len() < 2 {
            if self.fill().await? == 0 {
                return Err(
                    self.fail_because(ErrorClass::Closed, "closed in the middle of a chunked body")
                );
            }
        }
        if &self.buf[..2] != b"\r\n" {
            return Err(self.fail_because(ErrorClass::Malformed, "chunk not followed by CRLF"));
        }
        self.buf.advance(2);
        Ok(())
    }

    async fn body_until_close(
        &mut self,
        mut body: Option<&mut BodySearch<'_>>,
    ) -> Result<(), ExchangeError> {
        loop {
            if let Some(body) = body.as_deref_mut() {
                body.feed(self.buf);
            }
            if let Some(kept) = self.kept.as_deref_mut() {
                kept.push_body(self.buf);
            }
            self.buf.clear();
            if self.fill().await? == 0 {
                return Ok(());
            }
        }
    }

    /// Read more bytes into the buffer; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> Result<usize, ExchangeError> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let n = self.stream.read_buf(self.buf).await.map_err(|e| {
            let failure = classify_io(&e);
            ExchangeError {
                class: failure.class,
                detail: failure.detail,
                bytes: self.bytes,
            }
        })?;
        if n > 0 && self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn fail_because(&self, class: ErrorClass, detail: &'static str) -> ExchangeError {
        ExchangeError {
            class,
            detail: Some(detail),
            bytes: self.bytes,
        }
    }
}

/// Why a response head did not parse, in words; TLS records get a hint to use https://.
fn malformed_head(buf: &[u8]) -> &'static str {
    match buf {
        [0x15 | 0x16, 0x03, ..] => "the server answered in TLS: use https://",
        _ if !buf.starts_with(b"HTTP/") => "not an HTTP response",
        _ => "invalid response head",
    }
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `response` through a duplex pipe in pieces of `chunk` bytes and read it.
    fn read(response: &[u8], chunk: usize, needle: Option<&[u8]>) -> Result<Response, ErrorClass> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (mut client, mut server) = tokio::io::duplex(1 << 20);
            let data = response.to_vec();
            let writer = tokio::spawn(async move {
                let mut req = [0u8; 64];
                let _ = server.read(&mut req).await;
                for piece in data.chunks(chunk.max(1)) {
                    server.write_all(piece).await.unwrap();
                    tokio::task::yield_now().await;
                }
            });
            let mut buf = BytesMut::with_capacity(8192);
            let got = exchange(
                &mut client,
                b"GET / HTTP/1.1\r\n\r\n",
                &mut buf,
                false,
                needle,
            )
            .await;
            drop(client);
            let _ = writer.await;
            got.map_err(|e| e.class)
        })
    }

    #[test]
    fn content_length_response_in_any_split() {
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        for chunk in [1, 3, 7, resp.len()] {
            let r = read(resp, chunk, None).unwrap();
            assert_eq!(
                (r.status, r.keep_alive, r.bytes),
                (200, true, resp.len() as u64)
            );
        }
    }

    #[test]
    fn chunked_response_with_trailers() {
        let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n";
        for chunk in [1, 4, resp.len()] {
            let r = read(resp, chunk, Some(b"lo wo")).unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(r.body_matched, Some(true));
            assert!(r.keep_alive);
        }
    }

    #[test]
    fn connection_close_and_http10_are_not_kept_alive() {
        let r = read(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            100,
            None,
        )
        .unwrap();
        assert!(!r.keep_alive);
        let r = read(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 100, None).unwrap();
        assert!(!r.keep_alive);
    }

    #[test]
    fn body_until_close() {
        let r = read(b"HTTP/1.1 200 OK\r\n\r\nstream of bytes", 4, Some(b"bytes")).unwrap();
        assert_eq!(r.body_matched, Some(true));
        assert!(!r.keep_alive);
    }

    #[test]
    fn interim_100_continue_is_skipped() {
        let r = read(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
            5,
            None,
        )
        .unwrap();
        assert_eq!(r.status, 201);
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(
            read(b"SSH-2.0-OpenSSH\r\n\r\n", 100, None).unwrap_err(),
            ErrorClass::Malformed
        );
        assert_eq!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 100, None).unwrap_err(),
            ErrorClass::Malformed
        );
    }

    #[test]
    fn truncated_responses_are_closed() {
        assert_eq!(read(b"", 1, None).unwrap_err(), ErrorClass::Closed);
        assert_eq!(
            read(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                100,
                None
            )
            .unwrap_err(),
            ErrorClass::Closed
        );
    }

    #[test]
    fn body_search_finds_text_across_every_seam_and_keeps_a_bounded_window() {
        let body = b"aaaaaaaaaaXneedleYbbbbbbbbbb";
        for split in 0..body.len() {
            for second in split..body.len() {
                let mut search = BodySearch::new(b"needle");
                search.feed(&body[..split]);
                search.feed(&body[split..second]);
                search.feed(&body[second..]);
                assert!(search.found(), "split at {split}/{second}");
                assert!(search.window.len() <= 2 * b"needle".len());
            }
        }
        let mut search = BodySearch::new(b"needle");
        for _ in 0..10_000 {
            search.feed(b"needl");
            search.feed(b"Xeedle ");
        }
        assert!(!search.found());
        assert!(
            search.window.capacity() <= 64,
            "{}",
            search.window.capacity()
        );
    }

    #[test]
    fn missing_body_text_is_reported() {
        let r = read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            100,
            Some(b"bye"),
        )
        .unwrap();
        assert_eq!(r.body_matched, Some(false));
    }

    #[test]
    fn request_is_serialized_once_with_host_and_length() {
        let mut s = LoadSettings::new("http://x/");
        s.method = "POST".into();
        s.body = b"{}".to_vec();
        s.headers.push(("X-A".into(), "1".into()));
        let text = String::from_utf8(encode_request(&s, "127.0.0.1:8080", "/p?q=1")).unwrap();
        assert!(
            text.starts_with("POST /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"),
            "{text}"
        );
        assert!(
            text.contains("X-A: 1\r\n") && text.ends_with("Content-Length: 2\r\n\r\n{}"),
            "{text}"
        );
    }
}
