//! TLS by libpq's `sslmode`, through rustls: `disable` never, `allow`/`prefer` when the server
//! offers it, `require` always (without checking the certificate, as libpq does with no root
//! certificate), `verify-ca`/`verify-full` always, against the system's roots and the host name.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use tokio_postgres::config::SslMode as DriverMode;
use tokio_postgres::{Client, Config, NoTls};

/// libpq's sslmode values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, unverified (libpq's `allow` and `prefer`).
    Prefer,
    /// TLS or fail, unverified.
    Require,
    /// TLS or fail, the certificate checked against the system's roots and the host name.
    Verify,
}

impl SslMode {
    /// Read a libpq sslmode value.
    pub fn parse(text: &str) -> Option<SslMode> {
        match text {
            "disable" => Some(SslMode::Disable),
            "allow" | "prefer" => Some(SslMode::Prefer),
            "require" => Some(SslMode::Require),
            "verify-ca" | "verify-full" => Some(SslMode::Verify),
            _ => None,
        }
    }
}

/// Connect with `mode`, and spawn the connection's task on the current runtime.
pub async fn connect(config: &Config, mode: SslMode) -> Result<Client, tokio_postgres::Error> {
    let mut config = config.clone();
    if mode == SslMode::Disable {
        config.ssl_mode(DriverMode::Disable);
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        return Ok(client);
    }
    config.ssl_mode(match mode {
        SslMode::Prefer => DriverMode::Prefer,
        _ => DriverMode::Require,
    });
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(mode));
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn client_config(mode: SslMode) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    if mode == SslMode::Verify {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        return builder.with_root_certificates(roots).with_no_client_auth();
    }
    builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
        .with_no_client_auth()
}

/// libpq's `require`: encrypt, accept any certificate, but check the handshake's signatures.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
