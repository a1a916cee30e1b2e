//! A server with a known capacity: `workers` workers, each taking exactly `service` per request
//! (a wait, not CPU, so the capacity holds on a busy machine): `workers / service` requests a
//! second, beyond which requests queue and their latency grows without bound.

use crate::Background;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// A worker-pool server on 127.0.0.1; stops when dropped.
pub struct WorkerPool {
    server: Background,
}

impl WorkerPool {
    /// Start a pool of `workers`, each serving one request in `service`.
    pub fn start(workers: usize, service: Duration) -> WorkerPool {
        let server = Background::start(move |listener, mut stopped| async move {
            let pool = Rc::new(Semaphore::new(workers));
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let pool = Rc::clone(&pool);
                        tokio::task::spawn_local(serve(stream, pool, service));
                    }
                }
            }
        });
        WorkerPool { server }
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        self.server.url()
    }
}

async fn serve(stream: tokio::net::TcpStream, pool: Rc<Semaphore>, service: Duration) {
    let handler = hyper::service::service_fn(move |_request| {
        let pool = Rc::clone(&pool);
        async move {
            let _worker = pool.acquire().await.expect("the pool is never closed");
            tokio::time::sleep(service).await;
            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                b"ok",
            ))))
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), handler)
        .await;
}
