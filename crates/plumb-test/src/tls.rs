//! A TLS server (rustls) in front of the embedded target, with a fresh CA written to a PEM file.

use crate::{accept_each, Background};
use plumb_target::TargetSettings;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// An HTTPS target whose certificate is signed by a CA in [`TlsTarget::ca_file`].
pub struct TlsTarget {
    server: Background,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsTarget {
    /// Start it; `alpn` lists the protocols offered, e.g. `[b"h2", b"http/1.1"]`.
    pub fn start(alpn: &[&[u8]]) -> TlsTarget {
        let dir = tempfile::tempdir().expect("temp dir");
        let (config, ca_pem) = server_config(alpn);
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_pem).expect("write CA file");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let server = Background::start(move |listener, stop| {
            accept_each(listener, stop, move |stream: TcpStream| {
                let acceptor = acceptor.clone();
                async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        plumb_target::serve_io(tls, TargetSettings::default()).await;
                    }
                }
            })
        });
        TlsTarget {
            server,
            ca_file,
            _dir: dir,
        }
    }

    /// `https://localhost:PORT/` (the certificate names localhost and 127.0.0.1).
    pub fn url(&self) -> String {
        format!("https://localhost:{}/", self.server.addr().port())
    }

    /// The CA certificate, PEM.
    pub fn ca_file(&self) -> &PathBuf {
        &self.ca_file
    }
}

fn server_config(alpn: &[&[u8]]) -> (rustls::ServerConfig, String) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("leaf params");
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf certificate");
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).expect("private key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .expect("server certificate");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    (config, ca.pem())
}
