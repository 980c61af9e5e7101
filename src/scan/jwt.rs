//! Just enough JWT decoding to say what a token is — its issuer, subject, expiry and whether a
//! Kubernetes service account holds it — without verifying or printing it. A string that looks
//! like a JWT but whose header and claims do not decode to JSON objects is not one.

use base64::Engine as _;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    pub alg: String,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub exp: Option<i64>,
    /// The pod a bound service-account token is tied to (`kubernetes.io.pod.name`).
    pub pod: Option<String>,
    pub signature_len: usize,
    kubernetes_claims: bool,
    name: Option<String>,
    iat: Option<i64>,
}

fn decode_part(part: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

/// Decodes `header.payload.signature`; None unless both parts are JSON objects and the header
/// names an algorithm.
pub fn decode(token: &str) -> Option<Jwt> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next().unwrap_or(""));
    if parts.next().is_some() {
        return None;
    }
    let header = decode_part(header)?;
    let claims = decode_part(payload)?;
    let alg = header.get("alg")?.as_str()?.to_owned();
    let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
    let number = |k: &str| claims.get(k).and_then(Value::as_f64).map(|f| f as i64);
    let kubernetes = claims.get("kubernetes.io");
    Some(Jwt {
        alg,
        iss: text("iss"),
        sub: text("sub"),
        exp: number("exp"),
        pod: kubernetes
            .and_then(|k| k.get("pod"))
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        signature_len: signature.len(),
        kubernetes_claims: kubernetes.is_some()
            || claims
                .get("kubernetes.io/serviceaccount/namespace")
                .is_some(),
        name: text("name"),
        iat: number("iat"),
    })
}

impl Jwt {
    /// A Kubernetes service-account token: legacy (issuer `kubernetes/serviceaccount`) or bound
    /// (a `kubernetes.io` claim, subject `system:serviceaccount:NS:NAME`).
    pub fn is_service_account(&self) -> bool {
        self.iss.as_deref() == Some("kubernetes/serviceaccount")
            || self.kubernetes_claims
            || self
                .sub
                .as_deref()
                .is_some_and(|s| s.starts_with("system:serviceaccount:"))
    }

    /// The token of jwt.io's front page and of countless tutorials.
    pub fn is_documentation_example(&self) -> bool {
        self.sub.as_deref() == Some("1234567890")
            && self.name.as_deref() == Some("John Doe")
            && self.iat == Some(1516239022)
    }
}
