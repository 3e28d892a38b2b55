//! TLS to a remote shared ledger (`sslmode=require`): rustls, checking the server's
//! certificate against `sslrootcert` when given (a shop's own authority), else against the
//! public roots. A connection asked to be encrypted is never quietly made plain.

use std::path::Path;
use std::sync::Arc;

pub(crate) type Connector = tokio_postgres_rustls::MakeRustlsConnect;

/// A connector trusting `root` (PEM), else the public roots.
pub(crate) fn connector(root: Option<&Path>) -> Result<Connector, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match root {
        Some(file) => {
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(file)
                .map_err(|e| format!("{}: {e}", file.display()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", file.display()))?;
            if certs.is_empty() {
                return Err(format!("{} holds no certificate", file.display()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| format!("{}: {e}", file.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
