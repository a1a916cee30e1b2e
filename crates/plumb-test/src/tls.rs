//! A TLS server (rustls) in front of the embedded target, with a fresh CA written to a PEM file,
//! and the same server with a bad certificate: signed by an unknown CA, for another name, expired.

use crate::{accept_each, Background};
use plumb_target::TargetSettings;
use rcgen::{BasicConstraints, Certificate, CertificateParams, IsCa, KeyPair};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// The certificate a [`TlsTarget`] presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCert {
    /// For localhost and 127.0.0.1, signed by the CA in [`TlsTarget::ca_file`].
    Trusted,
    /// Signed by a CA that is not the one in [`TlsTarget::ca_file`] (nor any system root).
    UnknownIssuer,
    /// Signed by the CA in the file, but for `wrong.example` only.
    NameMismatch,
    /// Signed by the CA in the file, for the right names, but valid only during 2020.
    Expired,
}

/// An HTTPS target whose certificate is signed by a CA in [`TlsTarget::ca_file`].
pub struct TlsTarget {
    server: Background,
    files: TlsFiles,
}

/// The CA file a TLS server's clients are told to trust, in a directory removed when dropped.
pub(crate) struct TlsFiles {
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsFiles {
    /// A TLS acceptor presenting `cert`, offering `alpn`, and the CA file for its clients.
    pub(crate) fn acceptor(alpn: &[&[u8]], cert: ServerCert) -> (TlsAcceptor, TlsFiles) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (config, ca_pem) = server_config(alpn, cert);
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_pem).expect("write CA file");
        let files = TlsFiles { ca_file, _dir: dir };
        (TlsAcceptor::from(Arc::new(config)), files)
    }

    /// The CA certificate, PEM.
    pub(crate) fn ca_file(&self) -> &PathBuf {
        &self.ca_file
    }
}

impl TlsTarget {
    /// Start it; `alpn` lists the protocols offered, e.g. `[b"h2", b"http/1.1"]`.
    pub fn start(alpn: &[&[u8]]) -> TlsTarget {
        TlsTarget::with_cert(alpn, ServerCert::Trusted)
    }

    /// Start it with the given certificate; the CA file is written either way.
    pub fn with_cert(alpn: &[&[u8]], cert: ServerCert) -> TlsTarget {
        let (acceptor, files) = TlsFiles::acceptor(alpn, cert);
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
        TlsTarget { server, files }
    }

    /// `https://localhost:PORT/` (the certificate names localhost and 127.0.0.1).
    pub fn url(&self) -> String {
        format!("https://localhost:{}/", self.server.addr().port())
    }

    /// The listening address (for speaking plain HTTP to it, say).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr()
    }

    /// The CA certificate, PEM.
    pub fn ca_file(&self) -> &PathBuf {
        self.files.ca_file()
    }
}

/// A fresh CA named `name` (a CA is found by its name: an unknown one must be named differently,
/// or the client sees a bad signature instead of an unknown issuer).
fn new_ca(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let ca = params.self_signed(&key).expect("CA certificate");
    (ca, key)
}

fn server_config(alpn: &[&[u8]], cert: ServerCert) -> (rustls::ServerConfig, String) {
    let (ca, ca_key) = new_ca("plumb test CA");
    let names = match cert {
        ServerCert::NameMismatch => vec!["wrong.example".to_string()],
        _ => vec!["localhost".to_string(), "127.0.0.1".to_string()],
    };
    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params = CertificateParams::new(names).expect("leaf params");
    if cert == ServerCert::Expired {
        leaf_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf certificate");
    // The client is told to trust a CA; for an unknown issuer, another one than the signer.
    let trusted_pem = match cert {
        ServerCert::UnknownIssuer => new_ca("plumb stranger CA").0.pem(),
        _ => ca.pem(),
    };
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
    (config, trusted_pem)
}
