//! Test support for plumb: real servers on 127.0.0.1 that behave well or badly on purpose (a
//! scripted HTTP/1.1 server that misbehaves on every N-th request, an h2c server that sends
//! GOAWAY), a real nginx started on a free port, and TLS servers with a freshly made certificate
//! authority and good or bad certificates.
//!
//! Every server runs on its own thread and runtime and stops when its handle is dropped.

mod chromium;
mod degrading;
mod misbehaving;
mod nginx;
mod pool;
mod postgres;
mod scripted;
mod shop;
mod tls;

pub use chromium::{page_text, Chromium, Shot};
pub use degrading::Degrading;
pub use misbehaving::{
    closed_port, garbage_server, h2_only_server, reset_server, silent_server, H2ConcurrencyServer,
    H2Fault, H2GoawayServer, H2StreamServer,
};
pub use nginx::{Nginx, NginxConfig};
pub use pool::WorkerPool;
pub use postgres::{Postgres, Session as PsqlSession, PASSWORD as POSTGRES_PASSWORD};
pub use scripted::{Reply, Script, ScriptedServer};
pub use shop::{Shop, ShopLog};
pub use tls::{ServerCert, TlsTarget};

use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A server running in the background on 127.0.0.1; stops when dropped.
pub struct Background {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Bind 127.0.0.1:0 and run `serve(listener, stop)` on a new thread's runtime.
    pub fn start<F, Fut>(serve: F) -> Background
    where
        F: FnOnce(TcpListener, watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = std_listener.local_addr().expect("local address");
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("test server runtime");
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, async move {
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                serve(listener, stopped).await;
            });
        });
        Background {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accept connections until stopped, handling each with `handle` on the same thread.
pub async fn accept_each<F, Fut>(listener: TcpListener, mut stop: watch::Receiver<bool>, handle: F)
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::task::spawn_local(handle(stream));
                }
            }
            _ = stop.changed() => return,
        }
    }
}
