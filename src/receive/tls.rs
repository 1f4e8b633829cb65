//! `--tls-cert` / `--tls-key`: the rustls server configuration both servers share
//! (ring, the provider reqwest already builds), each with its own ALPN protocol —
//! `http/1.1` for OTLP/HTTP, `h2` for OTLP/gRPC.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of the server's certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A certificate chain and key, read and checked once at start.
#[derive(Clone)]
pub struct Identity {
    certs: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

impl Identity {
    /// Reads both files; every error names the flag and the file.
    pub fn load(files: &TlsFiles) -> anyhow::Result<Identity> {
        let cert_pem = read("--tls-cert", &files.cert)?;
        let certs = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, pem::Error>>()
            .with_context(|| format!("--tls-cert {}: not PEM", files.cert.display()))?;
        if certs.is_empty() {
            anyhow::bail!(
                "--tls-cert {}: no certificate in the file (expected a PEM '-----BEGIN CERTIFICATE-----' block)",
                files.cert.display()
            );
        }
        let key_pem = read("--tls-key", &files.key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
            pem::Error::NoItemsFound => anyhow::anyhow!(
                "--tls-key {}: no private key in the file (expected a PEM 'PRIVATE KEY' block)",
                files.key.display()
            ),
            e => anyhow::anyhow!(
                "--tls-key {}: not a PEM private key: {e}",
                files.key.display()
            ),
        })?;
        let identity = Identity {
            certs,
            key: Arc::new(key),
        };
        // Build once now so that a key not matching the certificate fails at start.
        identity.acceptor(b"h2").with_context(|| {
            format!(
                "--tls-cert {} / --tls-key {}",
                files.cert.display(),
                files.key.display()
            )
        })?;
        Ok(identity)
    }

    /// A TLS acceptor offering one ALPN protocol.
    pub fn acceptor(&self, alpn: &[u8]) -> anyhow::Result<TlsAcceptor> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(self.certs.clone(), self.key.clone_key())
            .context("the private key does not fit the certificate")?;
        config.alpn_protocols = vec![alpn.to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read(flag: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{flag} {}: cannot read the file", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_wrong_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsFiles {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("key.pem"),
        };
        let err = format!("{:#}", Identity::load(&missing).err().unwrap());
        assert!(
            err.contains("--tls-cert") && err.contains("nope.pem"),
            "{err}"
        );

        let not_pem = dir.path().join("cert.pem");
        std::fs::write(&not_pem, "hello\n").unwrap();
        let files = TlsFiles {
            cert: not_pem,
            key: dir.path().join("key.pem"),
        };
        let err = format!("{:#}", Identity::load(&files).err().unwrap());
        assert!(
            err.contains("no certificate") && err.contains("cert.pem"),
            "{err}"
        );
    }
}
