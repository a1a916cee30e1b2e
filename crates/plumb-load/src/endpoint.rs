//! The target of a load test: its URL taken apart, its addresses, and how to connect (TCP, TLS).

use crate::error::LoadError;
use crate::recorder::ErrorClass;
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
            url: url.to_string(),
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
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
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
    pub(crate) async fn connect(&self) -> Result<(Stream, Duration), ErrorClass> {
        let started = Instant::now();
        let tcp = self.connect_tcp().await?;
        let _ = tcp.set_nodelay(true);
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| classify_io(&e))?;
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

    async fn connect_tcp(&self) -> Result<TcpStream, ErrorClass> {
        let count = self.addrs.len();
        if count == 0 {
            return Err(ErrorClass::Connect);
        }
        let first = self.preferred.get();
        let mut last = ErrorClass::Connect;
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

fn classify_connect(e: &io::Error) -> ErrorClass {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorClass::Refused,
        io::ErrorKind::TimedOut => ErrorClass::Timeout,
        _ => ErrorClass::Connect,
    }
}

/// Map an I/O error of an exchange or handshake to its class.
pub(crate) fn classify_io(e: &io::Error) -> ErrorClass {
    if e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
    {
        return ErrorClass::Tls;
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorClass::Reset,
        io::ErrorKind::UnexpectedEof => ErrorClass::Closed,
        io::ErrorKind::TimedOut => ErrorClass::Timeout,
        io::ErrorKind::InvalidData => ErrorClass::Tls,
        _ => ErrorClass::Io,
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
