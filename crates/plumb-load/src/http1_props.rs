//! Property tests of the HTTP/1.1 response reader ([`crate::http1::exchange`]), driven through a
//! `tokio::io::duplex` pipe with the response cut at arbitrary points:
//! - any bytes at all end in a response or a classified error (closed, malformed), never a panic
//!   or a hang, and the outcome does not depend on where the bytes were cut;
//! - a valid response (any status, headers, `Content-Length`, chunked with extensions and
//!   trailers, or delimited by the close; HTTP/1.1 or 1.0; after a `100 Continue`; the answer to
//!   a HEAD, framed but bodiless) is read to the same status, byte count, keep-alive and
//!   body-check result however it is cut.

use crate::http1::{exchange, ExchangeError, Response};
use crate::recorder::ErrorClass;
use bytes::BytesMut;
use proptest::prelude::*;
use proptest::sample::Index;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A reader that takes longer than this on a few KiB in memory has hung.
const HANG: Duration = Duration::from_secs(5);

/// Cut `data` at `cuts` (indices into it, in any order) into the pieces written one by one.
fn pieces(data: &[u8], cuts: &[Index]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| data[w[0]..w[1]].to_vec()).collect()
}

/// Send a GET (or, as far as the reader knows, a HEAD), answer it with `pieces` written one at a time (letting the reader run between
/// them), then close; return what the reader made of it. Panics if the reader hangs.
fn read(
    pieces: Vec<Vec<u8>>,
    head: bool,
    needle: Option<&[u8]>,
) -> Result<Response, ExchangeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        let writer = tokio::spawn(async move {
            let mut request = [0u8; 64];
            let _ = server.read(&mut request).await;
            for piece in pieces {
                if server.write_all(&piece).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
        });
        let mut buf = BytesMut::with_capacity(8 * 1024);
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let got =
            tokio::time::timeout(HANG, exchange(&mut client, request, &mut buf, head, needle))
                .await
                .expect("the reader hung");
        drop(client);
        let _ = writer.await;
        got
    })
}

/// The parts of an outcome that cannot depend on how the bytes were cut: bytes after a complete
/// response may or may not have been read with it (and so count, and forbid keep-alive).
fn outcome(result: &Result<Response, ExchangeError>) -> Result<u16, ErrorClass> {
    match result {
        Ok(response) => Ok(response.status),
        Err(error) => Err(error.class),
    }
}

/// Bytes worth throwing at a parser: pure noise, or noise after a plausible start.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    let starts: Vec<&'static [u8]> = vec![
        b"",
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.0 100 Continue\r\n\r\n",
        b"HTTP/1.1 ",
    ];
    let starts = prop::sample::select(starts);
    let tail = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        // Mostly the characters HTTP is made of, so the parser gets further.
        prop::collection::vec(
            prop::sample::select(b"HTTP/1.0 2: \r\n\r\nabc;0123456789aAfF-x\t".to_vec()),
            0..512
        ),
    ];
    (starts, tail).prop_map(|(start, tail)| [start, &tail[..]].concat())
}

/// A valid response and what reading it must give.
#[derive(Debug, Clone)]
struct Valid {
    bytes: Vec<u8>,
    /// The answer to a HEAD request.
    head: bool,
    status: u16,
    keep_alive: bool,
    needle: Option<Vec<u8>>,
    needle_found: bool,
}

/// How a generated body is framed.
#[derive(Debug, Clone)]
enum Framing {
    Length,
    /// Chunk boundaries (cuts into the body), upper-case hex, an extension on each chunk,
    /// trailer lines.
    Chunked {
        cuts: Vec<Index>,
        upper: bool,
        extension: bool,
        trailers: Vec<(String, String)>,
    },
    UntilClose,
}

fn token() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(b"abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-".to_vec()),
        1..12,
    )
    .prop_map(|b| String::from_utf8(b).expect("ascii"))
}

fn header_value() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(b"abcxyzABC0123456789 ;=,/:._-\"".to_vec()),
        0..24,
    )
    .prop_map(|b| String::from_utf8(b).expect("ascii"))
}

fn framing() -> impl Strategy<Value = Framing> {
    let chunked = (
        prop::collection::vec(any::<Index>(), 0..6),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec((token(), header_value()), 0..3),
    )
        .prop_map(|(cuts, upper, extension, trailers)| Framing::Chunked {
            cuts,
            upper,
            extension,
            trailers,
        });
    prop_oneof![Just(Framing::Length), chunked, Just(Framing::UntilClose)]
}

/// The generated parts of a valid response.
#[derive(Debug, Clone)]
struct Parts {
    http10: bool,
    status: u16,
    connection: Option<&'static str>,
    /// A `100 Continue` first.
    interim: bool,
    /// The answer to a HEAD request: the framing headers of a body, but no body.
    head: bool,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    framing: Framing,
    /// Where a needle is taken from the body, how long it is, and whether it is there at all.
    needle: (Index, usize, bool),
}

fn valid() -> impl Strategy<Value = Valid> {
    let status = prop_oneof![
        prop::sample::select(vec![200u16, 201, 204, 206, 301, 302, 304, 404, 500, 503]),
        200u16..600,
    ];
    let connection =
        prop::sample::select(vec![None, Some("close"), Some("keep-alive"), Some("Close")]);
    (
        (
            any::<bool>(),
            status,
            connection,
            any::<bool>(),
            any::<bool>(),
        ),
        prop::collection::vec((token(), header_value()), 0..6),
        prop::collection::vec(any::<u8>(), 0..2048),
        framing(),
        (any::<Index>(), 1usize..8, any::<bool>()),
    )
        .prop_map(
            |((http10, status, connection, interim, head), headers, body, framing, needle)| {
                build(Parts {
                    http10,
                    status,
                    connection,
                    interim,
                    head,
                    headers,
                    body,
                    framing,
                    needle,
                })
            },
        )
}

/// Write `body` chunked at `cuts`, then the last chunk and `trailers`.
fn chunked(
    out: &mut Vec<u8>,
    body: &[u8],
    cuts: &[Index],
    upper: bool,
    extension: bool,
    trailers: &[(String, String)],
) {
    for chunk in pieces(body, cuts) {
        let size = if upper {
            format!("{:X}", chunk.len())
        } else {
            format!("{:x}", chunk.len())
        };
        let ext = if extension { ";name=value" } else { "" };
        out.extend_from_slice(format!("{size}{ext}\r\n").as_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        out.extend_from_slice(format!("X-{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// Put a response together from its generated parts, with the reading it must give.
fn build(parts: Parts) -> Valid {
    let Parts {
        http10,
        status,
        connection,
        interim,
        head,
        headers,
        mut body,
        mut framing,
        needle: (needle_at, needle_len, needle_present),
    } = parts;
    let no_body = status == 204 || status == 304;
    if no_body {
        body.clear();
        framing = Framing::Length;
    }
    if http10 && matches!(framing, Framing::Chunked { .. }) {
        framing = Framing::Length;
    }
    let version = if http10 { "1.0" } else { "1.1" };
    let mut out = Vec::new();
    if interim {
        out.extend_from_slice(format!("HTTP/{version} 100 Continue\r\n\r\n").as_bytes());
    }
    out.extend_from_slice(format!("HTTP/{version} {status} Whatever\r\n").as_bytes());
    for (name, value) in &headers {
        out.extend_from_slice(format!("X-{name}: {value}\r\n").as_bytes());
    }
    if let Some(connection) = connection {
        out.extend_from_slice(format!("Connection: {connection}\r\n").as_bytes());
    }
    match &framing {
        Framing::Length if !no_body => {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            if !head {
                out.extend_from_slice(&body);
            }
        }
        Framing::Length => out.extend_from_slice(b"\r\n"),
        Framing::Chunked {
            cuts,
            upper,
            extension,
            trailers,
        } => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            if !head {
                chunked(&mut out, &body, cuts, *upper, *extension, trailers);
            }
        }
        Framing::UntilClose => {
            out.extend_from_slice(b"\r\n");
            if !head {
                out.extend_from_slice(&body);
            }
        }
    }
    if head {
        body.clear();
    }
    let said = connection.map(str::to_ascii_lowercase);
    let keep_alive = (head || !matches!(framing, Framing::UntilClose))
        && match said.as_deref() {
            Some("close") => false,
            Some("keep-alive") => true,
            _ => !http10,
        };
    // A needle taken from the body, or one that cannot be in it (the body is long enough).
    let (needle, needle_found) = if needle_present && body.len() >= needle_len {
        let start = needle_at.index(body.len() - needle_len + 1);
        (body[start..start + needle_len].to_vec(), true)
    } else {
        let absent: Vec<u8> = (0..=255u8)
            .find(|b| !body.contains(b))
            .map(|b| vec![b; needle_len])
            .unwrap_or_else(|| b"no such text, not in any body".repeat(100));
        let found = memchr::memmem::find(&body, &absent).is_some();
        (absent, found)
    };
    Valid {
        bytes: out,
        head,
        status,
        keep_alive,
        needle: Some(needle),
        needle_found,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any bytes, cut anywhere: a response or a closed/malformed error, and the same one as
    /// when the bytes arrive at once.
    #[test]
    fn any_bytes_end_in_a_response_or_a_classified_error(
        data in noise(),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let cut = read(pieces(&data, &cuts), false, None);
        if let Err(error) = &cut {
            prop_assert!(
                matches!(error.class, ErrorClass::Closed | ErrorClass::Malformed),
                "unexpected class {:?}", error.class
            );
            prop_assert!(error.bytes <= data.len() as u64);
        }
        if let Ok(response) = &cut {
            prop_assert!(response.bytes <= data.len() as u64);
            prop_assert!((100..1000).contains(&response.status));
        }
        let whole = read(vec![data.clone()], false, None);
        prop_assert_eq!(outcome(&cut), outcome(&whole));
    }

    /// A valid response reads the same however it is cut.
    #[test]
    fn a_valid_response_reads_the_same_however_it_is_cut(
        response in valid(),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let got = read(
            pieces(&response.bytes, &cuts),
            response.head,
            response.needle.as_deref(),
        );
        let got = match got {
            Ok(got) => got,
            Err(error) => {
                return Err(TestCaseError::fail(format!(
                    "{:?} ({:?}) reading {:?}",
                    error.class,
                    error.detail,
                    String::from_utf8_lossy(&response.bytes)
                )))
            }
        };
        prop_assert_eq!(got.status, response.status);
        prop_assert_eq!(got.bytes, response.bytes.len() as u64);
        prop_assert_eq!(got.keep_alive, response.keep_alive);
        prop_assert_eq!(got.body_matched, Some(response.needle_found));
    }
}
