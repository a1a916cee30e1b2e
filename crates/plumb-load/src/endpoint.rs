//! The target of a load test: its URL taken apart, its addresses, and how to connect (TCP, TLS).

use crate::error::LoadError;
use crate::recorder::{ErrorClass, Failure};
use crate::settings::{HttpVersion, TlsSettings};
use rustls::pki_types::{CertificateDer, ServerName};
use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A parsed and resolved target URL.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL as given.
    pub url: String,
    /// Whether the scheme is `https`.
    pub tls: bool,
    /// Host name or address, without brackets.
    pub host: String,
    /// Port (default 80 or 443).
    pub port: u16,
    /// `Host` header value.
    pub authority: String,
    /// Path and query, at least `/`.
    pub path_and_query: String,
    /// Resolved addresses, in the resolver's order.
    pub addrs: Vec<SocketAddr>,
}

impl Endpoint {
    /// Parse and resolve `url`.
    pub fn resolve(url: &str) -> Result<Endpoint, LoadError> {
        let invalid = |reason: &str, hint: &str| LoadError::InvalidUrl {
            url: printable(url),
            reason: reason.to_string(),
            hint: hint.to_string(),
        };
        if !url.contains("://") {
            return Err(invalid("missing scheme", &format!("add one: http://{url}")));
        }
        let uri: http::Uri = url.parse().map_err(|e: http::uri::InvalidUri| {
            invalid(
                &e.to_string(),
                "write a full URL such as http://127.0.0.1:8080/path",
            )
        })?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            Some(other) => {
                return Err(invalid(
                    &format!("unsupported scheme '{other}'"),
                    "plumb load speaks http:// and https://",
                ))
            }
            None => return Err(invalid("missing scheme", &format!("add one: http://{url}"))),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("missing host", "e.g. http://127.0.0.1:8080/"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "credentials in the URL are not supported",
                "send them as a header: -H 'Authorization: Basic ...'",
            ));
        }
        let host = authority.host().trim_matches(['[', ']']).to_string();
        let port = match explicit_port(authority.as_str()) {
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => {
                    return Err(invalid(
                        &format!("port '{text}' is not between 1 and 65535"),
                        "write a port from 1 to 65535, e.g. http://127.0.0.1:8080/",
                    ))
                }
            },
        };
        let path_and_query = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".to_string());
        let addrs = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|source| LoadError::Resolve {
                host: host.clone(),
                url: url.to_string(),
                source,
            })?
            .collect();
        Ok(Endpoint {
            url: url.to_string(),
            tls,
            host,
            port,
            authority: authority.as_str().to_string(),
            path_and_query,
            addrs,
        })
    }
}

/// `text` with control characters escaped, so an error message cannot be split by the input.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The port written in an authority (`host:port`, `[v6]:port`), as text: the `http` crate drops a
/// port that does not fit in 16 bits, which would send the load to port 80.
fn explicit_port(authority: &str) -> Option<&str> {
    let after_host = match authority.rfind(']') {
        Some(bracket) => &authority[bracket + 1..],
        None => authority,
    };
    after_host.rsplit_once(':').map(|(_, port)| port)
}

/// A connected stream: plain TCP or TLS over TCP.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Opens connections to one endpoint; one per worker thread (it remembers which address works).
pub(crate) struct Connector {
    addrs: Vec<SocketAddr>,
    preferred: Cell<usize>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Connector {
    pub(crate) fn new(endpoint: &Endpoint, tls: Option<Arc<rustls::ClientConfig>>) -> Connector {
        let tls = tls.map(|config| {
            let name = ServerName::try_from(endpoint.host.clone())
                .unwrap_or_else(|_| ServerName::try_from("localhost").expect("valid name"));
            (TlsConnector::from(config), name)
        });
        Connector {
            addrs: endpoint.addrs.clone(),
            preferred: Cell::new(0),
            tls,
        }
    }

    /// Connect (and handshake TLS); returns the stream and how long it took.
    pub(crate) async fn connect(&self) -> Result<(Stream, Duration), Failure> {
        let started = Instant::now();
        let tcp = self.connect_tcp().await?;
        let _ = tcp.set_nodelay(true);
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| classify_handshake(&e))?;
                Stream::Tls(Box::new(tls))
            }
        };
        Ok((stream, started.elapsed()))
    }

    /// Whether a TLS stream negotiated HTTP/2 by ALPN.
    pub(crate) fn negotiated_h2(stream: &Stream) -> bool {
        match stream {
            Stream::Plain(_) => true,
            Stream::Tls(tls) => tls.get_ref().1.alpn_protocol() == Some(b"h2"),
        }
    }

    async fn connect_tcp(&self) -> Result<TcpStream, Failure> {
        let count = self.addrs.len();
        if count == 0 {
            return Err(Failure::new(ErrorClass::Connect, "the host has no address"));
        }
        let first = self.preferred.get();
        let mut last = Failure::from(ErrorClass::Connect);
        for offset in 0..count {
            let index = (first + offset) % count;
            match TcpStream::connect(self.addrs[index]).await {
                Ok(stream) => {
                    self.preferred.set(index);
                    return Ok(stream);
                }
                Err(e) => last = classify_connect(&e),
            }
        }
        Err(last)
    }
}

fn classify_connect(e: &io::Error) -> Failure {
    if let Some(detail) = resource_exhausted(e) {
        return Failure::new(ErrorClass::Connect, detail);
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorClass::Refused.into(),
        io::ErrorKind::TimedOut => ErrorClass::Timeout.into(),
        _ => ErrorClass::Connect.into(),
    }
}

/// Local limits that make connects fail: named, because they are plumb's side, not the server's.
fn resource_exhausted(e: &io::Error) -> Option<&'static str> {
    match e.raw_os_error()? {
        libc::EMFILE => Some("too many open files: raise `ulimit -n` or lower -c"),
        libc::ENFILE => Some("the system's open file table is full"),
        libc::EADDRNOTAVAIL => Some("no free local port (ephemeral ports exhausted)"),
        libc::ENOBUFS | libc::ENOMEM => Some("the kernel is out of socket memory"),
        _ => None,
    }
}

/// A failed TLS handshake: always counted as `tls`, with the reason when rustls gives one.
fn classify_handshake(e: &io::Error) -> Failure {
    if let Some(tls) = rustls_error(e) {
        return Failure::new(ErrorClass::Tls, tls_reason(tls));
    }
    let detail = match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => {
            "the connection closed during the TLS handshake: does the server speak TLS? (try http://)"
        }
        _ => "the TLS handshake failed",
    };
    Failure::new(ErrorClass::Tls, detail)
}

fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// The reason of a TLS failure in words, with what to do where there is something.
fn tls_reason(e: &rustls::Error) -> &'static str {
    use rustls::CertificateError as Cert;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            Cert::UnknownIssuer => {
                "unknown issuer: the certificate is not signed by a trusted CA (--cacert FILE, or -k)"
            }
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => {
                "certificate name mismatch: the certificate does not name this host"
            }
            Cert::Expired | Cert::ExpiredContext { .. } => "certificate expired",
            Cert::NotValidYet | Cert::NotValidYetContext { .. } => "certificate not valid yet",
            Cert::Revoked => "certificate revoked",
            Cert::BadSignature => "certificate has a bad signature",
            _ => "invalid certificate",
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "the server does not speak TLS (is it plain HTTP? try http://)"
        }
        rustls::Error::NoApplicationProtocol => {
            "the server did not offer h2 by ALPN: drop --http2 to use HTTP/1.1"
        }
        rustls::Error::AlertReceived(_) => "the server refused the TLS handshake (alert)",
        _ => "TLS error",
    }
}

/// Map an I/O error of an exchange to its class (and reason, for TLS).
pub(crate) fn classify_io(e: &io::Error) -> Failure {
    if let Some(tls) = rustls_error(e) {
        return Failure::new(ErrorClass::Tls, tls_reason(tls));
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorClass::Reset.into(),
        io::ErrorKind::UnexpectedEof => ErrorClass::Closed.into(),
        io::ErrorKind::TimedOut => ErrorClass::Timeout.into(),
        io::ErrorKind::InvalidData => Failure::new(ErrorClass::Tls, "invalid TLS data"),
        _ => ErrorClass::Io.into(),
    }
}

/// The rustls client configuration for `https://` targets.
pub fn tls_config(
    settings: &TlsSettings,
    http: HttpVersion,
) -> Result<Arc<rustls::ClientConfig>, LoadError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| LoadError::Settings {
            message: format!("TLS setup failed: {e}"),
            hint: "this is a bug in plumb; please report it".into(),
        })?;
    let mut config = if settings.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(root_store(settings)?)
            .with_no_client_auth()
    };
    config.alpn_protocols = match http {
        HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
        HttpVersion::Http2 => vec![b"h2".to_vec()],
    };
    Ok(Arc::new(config))
}

fn root_store(settings: &TlsSettings) -> Result<rustls::RootCertStore, LoadError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = &settings.cacert {
        let ca_error = |reason: String| LoadError::CaCert {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        let certs: Vec<CertificateDer<'static>> =
            rustls::pki_types::pem::PemObject::pem_slice_iter(&pem)
                .collect::<Result<_, _>>()
                .map_err(|e| ca_error(format!("not valid PEM: {e:?}")))?;
        if certs.is_empty() {
            return Err(ca_error("no certificate found in the file".into()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| ca_error(format!("unusable certificate: {e}")))?;
        }
    }
    Ok(roots)
}

/// `--insecure`: accept any server certificate, still checking handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
