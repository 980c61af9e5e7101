//! What a CertificateSigningRequest asks for. Its `spec.request` is a PKCS#10 request as base64
//! of PEM (itself base64 of DER); the subject's common name and organisations (the user and
//! groups the certificate would authenticate as) sit in the DER as plain strings.

use base64::Engine as _;

/// The printable ASCII runs of four or more characters in the DER of `request`, joined by
/// spaces (`mallory system:masters …`); `None` when it does not decode. A string search, not a
/// parse: enough for rules to ask whether a privileged name is requested.
pub fn csr_strings(request: &str) -> Option<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let pem = engine.decode(request.trim()).ok()?;
    let pem = String::from_utf8(pem).ok()?;
    let der = if pem.contains("-----BEGIN") {
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        engine.decode(body).ok()?
    } else {
        // Some clients send the DER base64-encoded once.
        engine.decode(request.trim()).ok()?
    };
    let mut runs: Vec<&str> = Vec::new();
    let mut start = None;
    for (i, &b) in der.iter().chain(std::iter::once(&0)).enumerate() {
        let printable = (0x20..0x7f).contains(&b);
        match (printable, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 4
                    && let Ok(run) = std::str::from_utf8(&der[s..i])
                {
                    runs.push(run);
                }
                start = None;
            }
            _ => {}
        }
    }
    (!runs.is_empty()).then(|| runs.join(" "))
}

#[cfg(test)]
mod tests {
    use super::csr_strings;

    /// `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
    /// -subj "/CN=mallory/O=system:masters" | base64 -w0`
    const MASTERS: &str = include_str!("../simulate/data/mallory-system-masters.b64");

    #[test]
    fn subject_names_are_found() {
        let strings = csr_strings(MASTERS).expect("decodes");
        assert!(strings.contains("mallory"), "{strings}");
        assert!(strings.contains("system:masters"), "{strings}");
        for bad in ["", "not base64!", "aGVsbG8="] {
            let got = csr_strings(bad);
            assert!(
                got.as_deref().is_none_or(|s| !s.contains("system:masters")),
                "{bad:?}: {got:?}"
            );
        }
    }
}
