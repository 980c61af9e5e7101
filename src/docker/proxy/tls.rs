//! TLS with client certificates for a TCP listener (`--tls-cert`, `--tls-key`, `--client-ca`),
//! the way dockerd's own `--tlsverify` works: a client without a certificate the CA signed never
//! gets to make a call, and the certificate's subject names the caller of every call it makes.
//!
//! After the handshake the connection's plaintext is handed to the relay over a socket pair, so
//! the relay (and its splicing of hijacked streams) works on TLS exactly as on a Unix socket; two
//! pump threads move bytes between the pair and rustls.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest;

use super::peer::Peer;
use super::{ServeError, Stream};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);

/// The files of `--tls-cert`, `--tls-key` and `--client-ca`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_error(path: &std::path::Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "no PEM certificate in this file"));
    }
    Ok(certs)
}

/// The server configuration: our certificate, and client certificates required and checked
/// against the client CA.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| file_error(&files.key, e))?;
    let mut roots = RootCertStore::empty();
    for ca in certificates(&files.client_ca)? {
        roots.add(ca).map_err(|e| file_error(&files.client_ca, e))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

/// The subject of a DER certificate (RFC 4514) and its common name — the last CN attribute, read
/// from the parsed name (a comma escaped inside another attribute cannot forge one).
pub fn subject_of(der: &[u8]) -> Option<(String, Option<String>)> {
    use x509_cert::der::Decode;
    use x509_cert::der::asn1::ObjectIdentifier;
    const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let subject = &cert.tbs_certificate.subject;
    let common_name = subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|attribute| attribute.oid == COMMON_NAME)
        .filter_map(|attribute| {
            let text = attribute.to_string();
            text.strip_prefix("CN=").map(str::to_owned)
        })
        .next_back();
    Some((subject.to_string(), common_name))
}

/// Completes the handshake and returns the plaintext side of the connection; the caller's
/// certificate goes into `peer`.
pub fn accept(
    mut tcp: TcpStream,
    config: Arc<ServerConfig>,
    peer: &mut Peer,
) -> Result<Stream, ServeError> {
    let mut conn = ServerConnection::new(config).map_err(|e| ServeError::Tls(e.to_string()))?;
    tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            // The alert rustls queued (unknown CA, no certificate) tells the client why.
            let _ = conn.write_tls(&mut tcp);
            return Err(ServeError::Tls(format!("TLS handshake refused: {e}")));
        }
    }
    tcp.set_read_timeout(None)?;
    // The pumps write under a shared lock: a client that stops reading must not hold it for ever.
    tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
    if let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) {
        let (subject, common_name) = subject_of(cert.as_ref()).unwrap_or_default();
        peer.identity = "mtls-subject";
        peer.username = common_name.or_else(|| (!subject.is_empty()).then(|| subject.clone()));
        peer.certificate_subject = Some(subject);
        peer.certificate_sha256 = Some(hex(&sha2::Sha256::digest(cert.as_ref())));
    }
    let (ours, theirs) = UnixStream::pair()?;
    pump(conn, tcp, theirs)?;
    Ok(Stream::Unix(ours))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Moves bytes between the TLS connection and the plaintext pair until both ends close.
fn pump(mut conn: ServerConnection, mut tcp: TcpStream, plain: UnixStream) -> io::Result<()> {
    let mut tcp_in = tcp.try_clone()?;
    let mut plain_out = plain.try_clone()?;
    // A TLS 1.3 client may send its request with its Finished message: the handshake then read
    // it already, and waiting on the socket for it would wait forever.
    let mut early = vec![0u8; 64 * 1024];
    loop {
        match conn.reader().read(&mut early) {
            Ok(0) => break,
            Ok(n) => plain_out.write_all(&early[..n])?,
            Err(_) => break,
        }
    }
    while conn.wants_write() {
        conn.write_tls(&mut tcp)?;
    }
    let mut plain_in = plain;
    // The connection and the socket it writes to, together: both pumps write records.
    let shared = Arc::new(Mutex::new((conn, tcp)));
    let inward = Arc::clone(&shared);
    std::thread::Builder::new().spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut plaintext = Vec::new();
        loop {
            let n = match tcp_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let Ok(mut guard) = inward.lock() else { break };
            let (conn, tcp) = &mut *guard;
            let mut records = &buf[..n];
            let mut closed = false;
            while !records.is_empty() {
                if conn.read_tls(&mut records).is_err() {
                    closed = true;
                    break;
                }
                match conn.process_new_packets() {
                    Ok(state) => {
                        let want = state.plaintext_bytes_to_read();
                        if want > 0 {
                            let start = plaintext.len();
                            plaintext.resize(start + want, 0);
                            let got = conn.reader().read(&mut plaintext[start..]).unwrap_or(0);
                            plaintext.truncate(start + got);
                        }
                        closed |= state.peer_has_closed();
                    }
                    Err(_) => {
                        let _ = conn.write_tls(tcp);
                        closed = true;
                        break;
                    }
                }
            }
            while conn.wants_write() {
                if conn.write_tls(tcp).is_err() {
                    closed = true;
                    break;
                }
            }
            drop(guard);
            if plain_out.write_all(&plaintext).is_err() {
                break;
            }
            plaintext.clear();
            if closed {
                break;
            }
        }
        let _ = plain_out.shutdown(Shutdown::Write);
    })?;
    std::thread::Builder::new().spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut failed = false;
        while !failed {
            let n = match plain_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let Ok(mut guard) = shared.lock() else { break };
            let (conn, tcp) = &mut *guard;
            let mut rest = &buf[..n];
            while !rest.is_empty() && !failed {
                match conn.writer().write(rest) {
                    Ok(k) => rest = &rest[k..],
                    Err(_) => failed = true,
                }
                if !conn.wants_write() && !rest.is_empty() {
                    // Nothing accepted and nothing to send: the connection is unusable.
                    failed = true;
                }
                while conn.wants_write() && !failed {
                    failed = conn.write_tls(tcp).is_err();
                }
            }
        }
        if let Ok(mut guard) = shared.lock() {
            let (conn, tcp) = &mut *guard;
            conn.send_close_notify();
            while conn.wants_write() && conn.write_tls(tcp).is_ok() {}
            // Wakes the inward pump if the client keeps its side open.
            let _ = tcp.shutdown(Shutdown::Both);
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_name_comes_from_the_parsed_subject() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docker/tls");
        let client = certificates(&fixtures.join("client.pem")).unwrap();
        assert_eq!(
            subject_of(client[0].as_ref()),
            Some(("CN=alice,O=ops".to_owned(), Some("alice".to_owned())))
        );
        assert!(subject_of(b"not a certificate").is_none());
        let files = TlsFiles {
            cert: fixtures.join("server.pem"),
            key: fixtures.join("server-key.pem"),
            client_ca: fixtures.join("ca.pem"),
        };
        assert!(server_config(&files).is_ok());
        let missing = TlsFiles {
            client_ca: fixtures.join("missing.pem"),
            ..files
        };
        let error = server_config(&missing).unwrap_err().to_string();
        assert!(error.contains("missing.pem"), "{error}");
    }
}
