//! Redaction: the one function every output goes through before a credential could reach it.
//!
//! A credential value is replaced by `[REDACTED type=<kind> len=<n> fp=<8 hex>]`: its kind and
//! length stay, and a fingerprint (HMAC-SHA256 under a per-installation key, first 8 hex digits)
//! lets an analyst see that two events carried the same secret without seeing it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
// serde_json with preserve_order: redacted bodies keep their keys in the order they came.
use serde_json::Value;
use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;

const KEY_LEN: usize = 32;

/// What kind of credential a redacted value was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A value of a Secret's `data` or `stringData`.
    SecretData,
    /// A Secret manifest kept in the last-applied-configuration annotation.
    SecretManifest,
    /// A bearer or service-account token (TokenReview, TokenRequest).
    Token,
    /// A field named like a password or private key.
    Password,
    /// A body that could not be parsed for inspection, redacted whole.
    UnreadableBody,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::SecretData => "secret_data",
            CredentialKind::SecretManifest => "secret_manifest",
            CredentialKind::Token => "token",
            CredentialKind::Password => "password",
            CredentialKind::UnreadableBody => "unreadable_body",
        }
    }
}

/// Keys whose string values are credentials wherever they appear.
const CREDENTIAL_KEYS: &[(&str, CredentialKind)] = &[
    ("token", CredentialKind::Token),
    ("bearerToken", CredentialKind::Token),
    ("access_token", CredentialKind::Token),
    ("refresh_token", CredentialKind::Token),
    ("id-token", CredentialKind::Token),
    ("password", CredentialKind::Password),
    ("client-key-data", CredentialKind::Password),
    // Docker's `POST /build?buildargs={"NPM_TOKEN":"…"}`: build arguments are how credentials
    // are passed to builds.
    ("buildargs", CredentialKind::Password),
];

/// Whether a key names a credential (`DB_PASSWORD`, `aws_secret_access_key`, `apiKey`,
/// `client-secret`, `privateKey`): such values are redacted in any body, ConfigMap data and
/// environment variables included. Over-redaction is the safe side.
fn credential_named(key: &str) -> bool {
    const PARTS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "privatekey",
        "private_key",
        "private-key",
        "accesskey",
        "access_key",
        "access-key",
        "credential",
    ];
    // Names of and references to credentials are not credentials (`secretName`, `tokenPath`).
    const NOT: &[&str] = &[
        "name", "ref", "path", "file", "url", "type", "mode", "selector",
    ];
    let lower = key.to_ascii_lowercase();
    PARTS.iter().any(|p| lower.contains(p)) && !NOT.iter().any(|n| lower.ends_with(n))
}

/// A query value written back after redaction: the characters that would change how the query
/// splits or decodes are percent-encoded.
fn encode_query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("%26"),
            '=' => out.push_str("%3D"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            '+' => out.push_str("%2B"),
            ' ' => out.push('+'),
            c => out.push(c),
        }
    }
    out
}

/// Command-line flags whose next argument is a credential.
const CREDENTIAL_FLAGS: &[&str] = &[
    "--password",
    "--token",
    "--secret",
    "--client-secret",
    "--api-key",
];

/// Credentials recognisable inside one command argument: (pattern, kind); group 1, when the
/// pattern has one, is the credential itself.
fn command_patterns() -> &'static [(regex::Regex, CredentialKind)] {
    static PATTERNS: OnceLock<Vec<(regex::Regex, CredentialKind)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (
                r"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)[=:]\s*(?:bearer\s+|basic\s+|token\s+)?([^\s\[]\S*)",
                CredentialKind::Password,
            ),
            (
                r"(?i)authorization:\s*\w+\s+([^\s\[]\S*)",
                CredentialKind::Token,
            ),
            (
                r"(?i)bearer\s+([A-Za-z0-9._~+/-]+=*)",
                CredentialKind::Token,
            ),
            (
                r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\[]+:([^@\s/\[]+)@",
                CredentialKind::Password,
            ),
            (
                r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
                CredentialKind::Token,
            ),
            (r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b", CredentialKind::Token),
        ]
        .into_iter()
        // The patterns are fixed; one that failed to build would be a defect caught by tests.
        .filter_map(|(p, kind)| regex::Regex::new(p).ok().map(|re| (re, kind)))
        .collect()
    })
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Holds the fingerprint key, loaded on first use.
pub struct Redactor {
    key_path: Option<PathBuf>,
    /// `None` when no key could be had: fingerprints are then withheld.
    key: OnceLock<Option<[u8; KEY_LEN]>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("fingerprint key {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("fingerprint key {path}: expected {KEY_LEN} bytes, found {found}")]
    Length { path: String, found: usize },
    #[error("no randomness for a fingerprint key: {0}")]
    Random(String),
}

/// MySQL's clients take their password glued to `-p`.
const MYSQL_CLIENTS: &[&str] = &["mysql", "mariadb", "mysqldump", "mysqladmin"];

impl Redactor {
    /// The installation's key file: `$CREDWATCH_KEY_FILE`, else
    /// `$XDG_STATE_HOME/credwatch/fingerprint.key`, else `~/.local/state/credwatch/fingerprint.key`.
    pub fn from_env() -> Self {
        let key_path = std::env::var_os("CREDWATCH_KEY_FILE")
            .map(PathBuf::from)
            .or_else(|| {
                let state = std::env::var_os("XDG_STATE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state"))
                    })?;
                Some(state.join("credwatch/fingerprint.key"))
            });
        Redactor {
            key_path,
            key: OnceLock::new(),
        }
    }

    /// A redactor with a fixed key, for tests and embedding.
    pub fn with_key(key: [u8; KEY_LEN]) -> Self {
        let lock = OnceLock::new();
        let _ = lock.set(Some(key));
        Redactor {
            key_path: None,
            key: lock,
        }
    }

    fn key(&self) -> Option<&[u8; KEY_LEN]> {
        let key = self.key.get_or_init(|| match self.key_path.as_ref().map(load_or_create_key) {
            Some(Ok(key)) => Some(key),
            failure => {
                if let Some(Err(e)) = failure {
                    eprintln!(
                        "credwatch: warning: {e}; fingerprints in this run use a one-off key and will not match other runs"
                    );
                }
                let mut key = [0u8; KEY_LEN];
                if getrandom::fill(&mut key).is_err() {
                    // A known key would let anyone test guesses against fingerprints; without
                    // one, fingerprints are withheld rather than weak.
                    eprintln!("credwatch: warning: no randomness for a fingerprint key; fingerprints will read 00000000");
                    return None;
                }
                Some(key)
            }
        });
        key.as_ref()
    }

    /// Replaces one credential value by its redacted form.
    pub fn redact(&self, kind: CredentialKind, value: &str) -> String {
        format!(
            "[REDACTED type={} len={} fp={}]",
            kind.as_str(),
            value.chars().count(),
            self.fingerprint(value)
        )
    }

    /// Redacts the values of credential-named query parameters of a request URI
    /// (`?token=…`, `access_token=…`), and credentials inside exec command arguments
    /// (`command=--password%3D…`, a bearer token, a JWT, an AWS access key id), keeping the rest
    /// of the URI as it was.
    pub fn redact_uri<'u>(&self, uri: &'u str) -> std::borrow::Cow<'u, str> {
        let Some((path, query)) = uri.split_once('?') else {
            return std::borrow::Cow::Borrowed(uri);
        };
        let named = |key: &str| {
            CREDENTIAL_KEYS
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, kind)| *kind)
        };
        let mut changed = false;
        let mut previous: Option<String> = None;
        let mut program: Option<String> = None;
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if named(k).is_some() => {
                    changed = true;
                    let kind = named(k).unwrap_or(CredentialKind::Token);
                    format!("{k}={}", self.redact(kind, v))
                }
                // `command=` of exec and attach; `cmd=` of the kubelet's run endpoint.
                Some((k @ ("command" | "cmd"), v)) => {
                    let arg = crate::event::percent_decode(v);
                    // The program is the first word, or a MySQL client named later
                    // (`sh -c mysql -p…`, a Docker exec known only as words).
                    let base = arg.rsplit('/').next().unwrap_or_default();
                    if MYSQL_CLIENTS.contains(&base) {
                        program = Some(base.to_owned());
                    }
                    let program_name = program.get_or_insert_with(|| base.to_owned());
                    let out = match self.redact_command_arg(&arg, previous.as_deref(), program_name)
                    {
                        Some(clean) => {
                            changed = true;
                            format!("{k}={}", encode_query_value(&clean))
                        }
                        None => pair.to_owned(),
                    };
                    previous = Some(arg);
                    out
                }
                // A URL with a password in it (`/build?remote=https://user:token@host/repo`).
                Some((k, v)) if v.contains('@') || v.contains("%40") => {
                    let value = crate::event::percent_decode(v);
                    match self.redact_command_arg(&value, None, "") {
                        Some(clean) if value.contains("://") => {
                            changed = true;
                            format!("{k}={}", encode_query_value(&clean))
                        }
                        _ => pair.to_owned(),
                    }
                }
                _ => pair.to_owned(),
            })
            .collect();
        if !changed {
            return std::borrow::Cow::Borrowed(uri);
        }
        std::borrow::Cow::Owned(format!("{path}?{}", redacted.join("&")))
    }

    /// One exec argument with the credentials in it redacted, or `None` when it holds none.
    /// `previous` is the argument before it (`--password`, `-u` make this one a credential);
    /// `program` the command's first word.
    fn redact_command_arg(
        &self,
        arg: &str,
        previous: Option<&str>,
        program: &str,
    ) -> Option<String> {
        let flag =
            |set: &[&str]| previous.is_some_and(|p| set.iter().any(|f| p.eq_ignore_ascii_case(f)));
        if !arg.is_empty() && flag(CREDENTIAL_FLAGS) {
            return Some(self.redact(CredentialKind::Password, arg));
        }
        // `Authorization: Bearer TOKEN` split into words (a Docker exec's command is known only
        // as words): the word after `Bearer` is the token.
        if !arg.is_empty()
            && previous.is_some_and(|p| {
                p.get(p.len().saturating_sub(6)..)
                    .is_some_and(|end| end.eq_ignore_ascii_case("bearer"))
            })
        {
            return Some(self.redact(CredentialKind::Token, arg));
        }
        // `curl -u user:password`: the part after the first colon.
        if flag(&["-u", "--user", "--proxy-user"])
            && let Some((user, password)) = arg.split_once(':')
            && !password.is_empty()
        {
            return Some(format!(
                "{user}:{}",
                self.redact(CredentialKind::Password, password)
            ));
        }
        // `mysql -pPASSWORD`.
        if MYSQL_CLIENTS.contains(&program)
            && let Some(password) = arg.strip_prefix("-p").filter(|p| !p.is_empty())
        {
            return Some(format!(
                "-p{}",
                self.redact(CredentialKind::Password, password)
            ));
        }
        let mut text = arg.to_owned();
        let mut found = false;
        for (re, kind) in command_patterns() {
            let replaced = re.replace_all(&text, |caps: &regex::Captures<'_>| {
                found = true;
                let whole = &caps[0];
                // Group 1, when the pattern has one, is the credential; the rest stays.
                match caps.get(1) {
                    Some(m) => {
                        let start = m.start() - caps.get(0).map_or(0, |w| w.start());
                        format!(
                            "{}{}{}",
                            &whole[..start],
                            self.redact(*kind, m.as_str()),
                            &whole[start + m.len()..]
                        )
                    }
                    None => self.redact(*kind, whole),
                }
            });
            text = replaced.into_owned();
        }
        found.then_some(text)
    }

    /// First 8 hex digits of HMAC-SHA256(key, value).
    pub fn fingerprint(&self, value: &str) -> String {
        let Some(Ok(mut mac)) = self.key().map(|k| Hmac::<Sha256>::new_from_slice(k)) else {
            return "00000000".to_owned();
        };
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Redacts the credentials a Kubernetes request or response body can carry: the data of
    /// Secrets (and SecretLists, and any body sent to the `secrets` resource), their
    /// last-applied manifests, TokenReview and TokenRequest tokens, and password- or token-named
    /// fields anywhere.
    pub fn redact_body(&self, body: &mut Value, resource: Option<&str>) {
        self.walk(body, resource == Some("secrets"));
    }

    fn walk(&self, value: &mut Value, secret_context: bool) {
        if let Some(items) = value.as_array_mut() {
            for item in items.iter_mut() {
                self.walk(item, secret_context);
            }
            return;
        }
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .map(str::to_owned);
        let Some(object) = value.as_object_mut() else {
            return;
        };
        let is_secret = match kind.as_deref() {
            Some("Secret" | "SecretList") => true,
            Some("List") | None => secret_context,
            Some(_) => false,
        };
        // A JSON Patch to a secret (`[{"op":"replace","path":"/data/k","value":…}]`) carries
        // the new value in `value`.
        if secret_context && object.get("op").is_some_and(Value::is_string) {
            if let Some(v) = object.get_mut("value") {
                self.replace(v, CredentialKind::SecretData);
            }
            return;
        }
        if is_secret {
            for field in ["data", "stringData"] {
                if let Some(data) = object.get_mut(field).and_then(|d| d.as_object_mut()) {
                    for (_, v) in data.iter_mut() {
                        self.replace(v, CredentialKind::SecretData);
                    }
                }
            }
            let last_applied = object
                .get_mut("metadata")
                .and_then(|m| m.as_object_mut())
                .and_then(|m| m.get_mut("annotations"))
                .and_then(|a| a.as_object_mut())
                .and_then(|a| a.get_mut(LAST_APPLIED));
            if let Some(v) = last_applied {
                self.replace(v, CredentialKind::SecretManifest);
            }
        }
        // An environment variable named like a credential (`{name: DB_PASSWORD, value: …}`).
        let env_credential = object
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(credential_named);
        if env_credential && let Some(v) = object.get_mut("value").filter(|v| v.is_string()) {
            self.replace(v, CredentialKind::Password);
        }
        for (key, v) in object.iter_mut() {
            if is_secret && (key == "data" || key == "stringData") {
                continue; // already redacted above, value by value
            }
            let credential = CREDENTIAL_KEYS
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, kind)| *kind)
                .or_else(|| credential_named(key).then_some(CredentialKind::Password));
            if let (Some(kind), true) = (credential, v.is_string()) {
                self.replace(v, kind);
                continue;
            }
            // Items of a SecretList inherit the secret context; other nested objects do not.
            let nested_secret = is_secret && key == "items";
            if v.is_object() || v.is_array() {
                self.walk(v, nested_secret);
            }
        }
    }

    fn replace(&self, v: &mut Value, kind: CredentialKind) {
        // Already redacted (credwatch reading its own output): keep the original fingerprint.
        if v.as_str().is_some_and(is_redacted) {
            return;
        }
        let redacted = match v.as_str() {
            Some(text) => self.redact(kind, text),
            // A non-string where a credential belongs (a nested manifest): redact its JSON text.
            None => self.redact(kind, &v.to_string()),
        };
        *v = Value::String(redacted);
    }
}

/// Whether a value is one this module wrote.
fn is_redacted(text: &str) -> bool {
    text.starts_with("[REDACTED type=") && text.ends_with(']')
}

fn load_or_create_key(path: &PathBuf) -> Result<[u8; KEY_LEN], KeyError> {
    let io_error = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let found = bytes.len();
            bytes.try_into().map_err(|_| KeyError::Length {
                path: path.display().to_string(),
                found,
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut key = [0u8; KEY_LEN];
            getrandom::fill(&mut key).map_err(|e| KeyError::Random(e.to_string()))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io_error)?;
            }
            write_private(path, &key).map_err(io_error)?;
            Ok(key)
        }
        Err(e) => Err(io_error(e)),
    }
}

#[cfg(unix)]
fn write_private(path: &PathBuf, key: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(key)
}

#[cfg(not(unix))]
fn write_private(path: &PathBuf, key: &[u8]) -> io::Result<()> {
    std::fs::write(path, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "Q0FOQVJZLXNlY3JldC12YWx1ZQ==";

    fn redacted(body: &str, resource: Option<&str>) -> String {
        let redactor = Redactor::with_key([7; KEY_LEN]);
        let mut value: Value = serde_json::from_str(body).expect("test body is JSON");
        redactor.redact_body(&mut value, resource);
        value.to_string()
    }

    #[test]
    fn credential_carriers_are_redacted() {
        let cases: &[(&str, &str, Option<&str>, &str)] = &[
            (
                "secret data",
                r#"{"kind":"Secret","data":{"password":"CANARY"}}"#,
                Some("secrets"),
                "type=secret_data",
            ),
            (
                "secret stringData",
                r#"{"kind":"Secret","stringData":{"k":"CANARY"}}"#,
                None,
                "type=secret_data",
            ),
            (
                "secret list",
                r#"{"kind":"SecretList","items":[{"metadata":{"name":"a"},"data":{"k":"CANARY"}}]}"#,
                Some("secrets"),
                "type=secret_data",
            ),
            (
                "patch to secrets",
                r#"{"data":{"k":"CANARY"}}"#,
                Some("secrets"),
                "type=secret_data",
            ),
            (
                "last applied",
                r#"{"kind":"Secret","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"k\":\"CANARY\"}}"}}}"#,
                Some("secrets"),
                "type=secret_manifest",
            ),
            (
                "token review",
                r#"{"kind":"TokenReview","spec":{"token":"CANARY"}}"#,
                Some("tokenreviews"),
                "type=token",
            ),
            (
                "token request",
                r#"{"kind":"TokenRequest","status":{"token":"CANARY","expirationTimestamp":"x"}}"#,
                Some("serviceaccounts"),
                "type=token",
            ),
            (
                "json patch to a secret",
                r#"[{"op":"replace","path":"/data/password","value":"CANARY"}]"#,
                Some("secrets"),
                "type=secret_data",
            ),
            (
                "secret list without objectRef",
                r#"{"kind":"SecretList","items":[{"data":{"k":"CANARY"}}]}"#,
                None,
                "type=secret_data",
            ),
            (
                "password anywhere",
                r#"{"kind":"ConfigMap","x":[{"password":"CANARY"}]}"#,
                Some("configmaps"),
                "type=password",
            ),
        ];
        for (name, body, resource, marker) in cases {
            let out = redacted(&body.replace("CANARY", CANARY), *resource);
            assert!(!out.contains(CANARY), "case {name}: canary leaked in {out}");
            assert!(out.contains(marker), "case {name}: no {marker} in {out}");
            assert!(
                out.contains(&format!("len={}", CANARY.len())) || *marker == "type=secret_manifest",
                "case {name}: {out}"
            );
        }
    }

    #[test]
    fn redacting_twice_keeps_the_first_fingerprint() {
        let body = r#"{"kind":"Secret","data":{"k":"CANARY"}}"#.replace("CANARY", CANARY);
        let once = redacted(&body, Some("secrets"));
        assert_eq!(redacted(&once, Some("secrets")), once);
    }

    #[test]
    fn other_bodies_are_left_alone() {
        let body = r#"{"kind":"ConfigMap","data":{"key":"plain"}}"#;
        assert_eq!(redacted(body, Some("configmaps")), body);
    }

    #[test]
    fn fingerprints_match_for_equal_values_only() {
        let redactor = Redactor::with_key([1; KEY_LEN]);
        let a = redactor.fingerprint("s3cret");
        assert_eq!(a, redactor.fingerprint("s3cret"));
        assert_ne!(a, redactor.fingerprint("s3cret2"));
        assert_eq!(a.len(), 8);
        assert_ne!(a, Redactor::with_key([2; KEY_LEN]).fingerprint("s3cret"));
    }

    #[test]
    fn credentials_in_exec_commands_are_redacted() {
        let redactor = Redactor::with_key([1; KEY_LEN]);
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0.c2lnbmF0dXJl";
        // (uri, secret that must disappear, text that must stay)
        let cases = [
            (
                "/api/v1/namespaces/p/pods/a/exec?command=mysql&command=--password%3Dhunter2xyz&container=db",
                "hunter2xyz",
                "command=--password%3D[REDACTED",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=vault&command=login&command=--token&command=s.abcdefghij",
                "s.abcdefghij",
                "command=login",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=curl&command=-H&command=Authorization%3A+Bearer+abc123def456&command=http%3A%2F%2Fx",
                "abc123def456",
                "Authorization:+Bearer+[REDACTED",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=curl&command=-H&command=X-Auth-Token%3A+Bearer+abc123def456",
                "abc123def456",
                "X-Auth-Token:+Bearer+[REDACTED",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=curl&command=-H&command=Authorization%3A+token+ghp0123456789",
                "ghp0123456789",
                "Authorization:+token+[REDACTED",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=curl&command=-u&command=admin%3Ahunter2xyz&command=http%3A%2F%2Fx",
                "hunter2xyz",
                "command=admin:[REDACTED",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=%2Fusr%2Fbin%2Fmysql&command=-uroot&command=-phunter2xyz",
                "hunter2xyz",
                "command=-p[REDACTED",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=psql&command=postgres%3A%2F%2Fapp%3Ahunter2xyz%40db%3A5432%2Fapp",
                "hunter2xyz",
                "postgres://app:[REDACTED",
            ),
            (
                "/api/v1/nodes/n/proxy/run/ns/p/c?cmd=env+API_TOKEN%3Dhunter2xyz+app",
                "hunter2xyz",
                "cmd=env+API_TOKEN%3D[REDACTED",
            ),
            (
                &format!(
                    "/api/v1/namespaces/p/pods/a/exec?command=kubectl&command=--server%3Dx&command={jwt}"
                ),
                jwt,
                "command=kubectl",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=env&command=AWS_ACCESS_KEY_ID%3DAKIAABCDEFGHIJKLMNOP&command=aws",
                "AKIAABCDEFGHIJKLMNOP",
                "AWS_ACCESS_KEY_ID%3D",
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=sh&command=-c&command=echo+x+token%3Dsupersecret1",
                "supersecret1",
                "echo+x+token%3D",
            ),
        ];
        for (uri, secret, kept) in cases {
            let out = redactor.redact_uri(uri);
            assert!(!out.contains(secret), "{uri} -> {out}");
            assert!(out.contains(kept), "{uri} -> {out}");
            assert!(out.contains("[REDACTED"), "{uri} -> {out}");
        }
        // Commands without credentials are left exactly as logged.
        for uri in [
            "/api/v1/namespaces/p/pods/a/exec?command=cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken&stdout=true",
            "/api/v1/namespaces/p/pods/a/exec?command=ls&command=-la",
            "/api/v1/namespaces/p/pods/a/exec?command=curl&command=-u&command=admin&command=http%3A%2F%2Fx",
            "/api/v1/namespaces/p/pods/a/exec?command=ls&command=-p",
        ] {
            assert_eq!(redactor.redact_uri(uri), uri);
        }
    }

    #[test]
    fn docker_build_arguments_and_remote_credentials_are_redacted() {
        let redactor = Redactor::with_key([1; KEY_LEN]);
        for (uri, secret, kept) in [
            (
                "/v1.41/build?buildargs=%7B%22NPM_TOKEN%22%3A%22npm_s3cr3tvalue%22%7D&t=app",
                "s3cr3t",
                "t=app",
            ),
            (
                "/v1.41/build?remote=https%3A%2F%2Fci%3Aghp_s3cr3tvalue%40github.com%2Fo%2Fr.git",
                "s3cr3t",
                "github.com",
            ),
        ] {
            let out = redactor.redact_uri(uri);
            assert!(!out.contains(secret), "{uri} -> {out}");
            assert!(out.contains(kept), "{uri} -> {out}");
        }
        let plain = "/v1.41/images/create?fromImage=registry.example.com%2Fapp%40sha256%3Aabc";
        assert_eq!(redactor.redact_uri(plain), plain);
    }

    #[test]
    fn credential_named_values_are_redacted_in_any_body() {
        let body = r#"{"kind":"ConfigMap","data":{"DB_PASSWORD":"CANARY","aws_secret_access_key":"CANARY","LOG_LEVEL":"info"},"spec":{"containers":[{"env":[{"name":"API_TOKEN","value":"CANARY"},{"name":"MODE","value":"prod"}],"volumes":[{"secret":{"secretName":"db-creds"}}]}]}}"#
            .replace("CANARY", CANARY);
        let out = redacted(&body, Some("configmaps"));
        assert!(!out.contains(CANARY), "{out}");
        for kept in ["\"info\"", "\"prod\"", "\"db-creds\"", "DB_PASSWORD"] {
            assert!(out.contains(kept), "{kept} kept: {out}");
        }
    }

    #[test]
    fn key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/fingerprint.key");
        let first = load_or_create_key(&path).expect("created");
        let second = load_or_create_key(&path).expect("read back");
        assert_eq!(first, second);
        std::fs::write(&path, b"short").expect("overwrite");
        assert!(matches!(
            load_or_create_key(&path),
            Err(KeyError::Length { found: 5, .. })
        ));
    }
}
