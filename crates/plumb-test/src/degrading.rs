//! A server that degrades late: it answers at once until `after` has passed since its first
//! request, then takes `slow` for every request. A planted late degradation, for thresholds
//! judged over rolling windows.

use crate::Background;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A late-degrading server on 127.0.0.1; stops when dropped.
pub struct Degrading {
    server: Background,
}

impl Degrading {
    /// Fast until `after` past the first request, then `slow` per request.
    pub fn start(after: Duration, slow: Duration) -> Degrading {
        let server = Background::start(move |listener, mut stopped| async move {
            let first: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        tokio::task::spawn_local(serve(stream, Rc::clone(&first), after, slow));
                    }
                }
            }
        });
        Degrading { server }
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        self.server.url()
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    first: Rc<Cell<Option<Instant>>>,
    after: Duration,
    slow: Duration,
) {
    let handler = hyper::service::service_fn(move |_request| {
        let started = *first.get().get_or_insert(Instant::now());
        first.set(Some(started));
        async move {
            if started.elapsed() >= after {
                tokio::time::sleep(slow).await;
            }
            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                b"ok",
            ))))
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), handler)
        .await;
}
