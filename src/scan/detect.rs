//! Credential detectors: a literal prefilter (Aho-Corasick over anchors such as `AKIA`, `eyJ`,
//! `-----BEGIN`, `ghp_`, `password`) decides which detector families a message can hold at all;
//! only those families' regexes run, and only on messages that hit an anchor.
//!
//! A detector returns the credential's span, its value (kept in memory only long enough to be
//! fingerprinted), a confidence, a severity and a reason. Nothing here formats a value.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use regex::Regex;

use super::jwt;
use crate::findings::Severity;

/// Detector families; an anchor names the family it can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Family {
    Aws,
    Jwt,
    Pem,
    Gcp,
    GitHub,
    GitLab,
    Slack,
    SlackWebhook,
    Stripe,
    AzureStorage,
    AzureConnection,
    AzureSas,
    DockerAuth,
    Url,
    AuthHeader,
    Assignment,
}

const FAMILIES: usize = Family::Assignment as usize + 1;

/// Keywords of `key = value` credentials, matched in the three spellings logs use
/// (`password`, `PASSWORD`, `Password` as in `dbPassword`); case-sensitive anchors keep the
/// prefilter on its fastest (SIMD) path.
const ASSIGNMENT_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "credential",
];

fn anchors() -> Vec<(String, Family)> {
    let mut anchors: Vec<(String, Family)> = [
        ("AKIA", Family::Aws),
        ("ASIA", Family::Aws),
        ("eyJ", Family::Jwt),
        ("-----BEGIN", Family::Pem),
        ("LS0tLS1CRUdJTi", Family::Pem),
        ("service_account", Family::Gcp),
        ("ghp_", Family::GitHub),
        ("gho_", Family::GitHub),
        ("ghu_", Family::GitHub),
        ("ghs_", Family::GitHub),
        ("ghr_", Family::GitHub),
        ("github_pat_", Family::GitHub),
        ("glpat-", Family::GitLab),
        ("glrt-", Family::GitLab),
        ("gldt-", Family::GitLab),
        ("GR1348941", Family::GitLab),
        ("xox", Family::Slack),
        ("hooks.slack.com", Family::SlackWebhook),
        ("sk_live_", Family::Stripe),
        ("rk_live_", Family::Stripe),
        ("sk_test_", Family::Stripe),
        ("rk_test_", Family::Stripe),
        ("AccountKey=", Family::AzureStorage),
        ("SharedAccessKey=", Family::AzureConnection),
        ("sig=", Family::AzureSas),
        ("auths", Family::DockerAuth),
        ("://", Family::Url),
        ("uthorization", Family::AuthHeader),
        ("UTHORIZATION", Family::AuthHeader),
    ]
    .into_iter()
    .map(|(a, f)| (a.to_owned(), f))
    .collect();
    for word in ASSIGNMENT_WORDS {
        let mut capitalised = word.to_string();
        capitalised[..1].make_ascii_uppercase();
        for spelling in [word.to_string(), word.to_ascii_uppercase(), capitalised] {
            anchors.push((spelling, Family::Assignment));
        }
    }
    anchors
}

/// How sure a detector is that the match is a live credential.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// One credential found in a message. `value` is what gets fingerprinted; it never leaves the
/// scanner.
#[derive(Debug, Clone)]
pub struct Detection {
    pub kind: &'static str,
    /// Byte span in the message the detector looked at.
    pub start: usize,
    pub end: usize,
    pub value: String,
    pub confidence: Confidence,
    pub severity: Severity,
    pub reason: String,
    /// Derived facts that are not the credential (issuer, user name, registry, key name).
    pub details: Vec<(&'static str, serde_json::Value)>,
    /// A documentation example (AKIAIOSFODNN7EXAMPLE, the jwt.io token), not a finding.
    pub example: bool,
    /// Lines after the message this detection took its body from (a PEM body, an AWS secret
    /// on the next line, a pretty-printed key file): they are part of it, not new findings.
    pub lines_used: usize,
    /// How specific the detector is: a generic match that contains a more specific one is
    /// dropped (`password=ghp_…` is a GitHub token, not a password).
    specificity: u8,
}

impl Detection {
    /// A detection made outside the detectors (a Secret's data found where it should not be).
    pub fn new(
        kind: &'static str,
        value: String,
        confidence: Confidence,
        severity: Severity,
        reason: String,
        details: Vec<(&'static str, serde_json::Value)>,
    ) -> Self {
        Detection {
            kind,
            start: 0,
            end: value.len(),
            value,
            confidence,
            severity,
            reason,
            details,
            example: false,
            lines_used: 0,
            specificity: 5,
        }
    }
}

/// What one message needs from the lines after it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// A private key began and did not end: the following lines hold its body.
    pub pem_body: bool,
    /// An AWS access key id without its secret: the next lines may hold it.
    pub aws_secret: bool,
    /// A pretty-printed key file began (a GCP service-account key, a Docker config.json): the
    /// next lines hold the key.
    pub json_block: bool,
}

impl Needs {
    pub fn any(self) -> bool {
        self.pem_body || self.aws_secret || self.json_block
    }

    /// How many following lines would answer.
    pub fn lines_wanted(self) -> usize {
        if self.pem_body {
            200
        } else if self.json_block {
            40
        } else if self.aws_secret {
            3
        } else {
            0
        }
    }
}

/// The compiled detector set; built once, shared by all threads.
pub struct Detectors {
    prefilter: AhoCorasick,
    overlapping: AhoCorasick,
    families: Vec<Family>,
    re: Patterns,
}

struct Patterns {
    aws_key: Regex,
    aws_secret_keyed: Regex,
    aws_secret_bare: Regex,
    jwt: Regex,
    pem_begin: Regex,
    pem_end: Regex,
    gcp_email: Regex,
    gcp_project: Regex,
    github: Regex,
    gitlab: Regex,
    slack: Regex,
    slack_webhook: Regex,
    stripe: Regex,
    azure_storage: Regex,
    azure_connection: Regex,
    azure_sas: Regex,
    docker_auth: Regex,
    url: Regex,
    auth_header: Regex,
    assignment: Regex,
    /// `--password VALUE`: a command-line flag and its next argument.
    flag_assignment: Regex,
    azure_account: Regex,
    pem_base64: Regex,
}

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file; a test compiles every one.
    Regex::new(pattern).unwrap_or_else(|e| panic!("detector pattern {pattern}: {e}"))
}

impl Default for Detectors {
    fn default() -> Self {
        Self::new()
    }
}

impl Detectors {
    pub fn new() -> Self {
        let (patterns, families): (Vec<String>, Vec<Family>) = anchors().into_iter().unzip();
        // Leftmost-first lets the automaton use its SIMD (Teddy) prefilter on raw blocks;
        // messages need every overlapping anchor (`secret` inside `client_secret_key`).
        let prefilter = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .unwrap_or_else(|e| panic!("anchor automaton: {e}"));
        let overlapping = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .unwrap_or_else(|e| panic!("anchor automaton: {e}"));
        let re = Patterns {
            aws_key: re(r"\b((?:AKIA|ASIA)[A-Z2-7]{16})\b"),
            aws_secret_keyed: re(
                r#"(?i)(?:aws_?secret_?access_?key|secret_?access_?key|aws_?secret(?:_?key)?|secret_?key|\bsecret)["']?\s*(?:[:=]|=>)\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            ),
            aws_secret_bare: re(r"(?:^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"),
            jwt: re(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
            pem_begin: re(
                r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----",
            ),
            pem_end: re(r"-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----"),
            gcp_email: re(r#""client_email"\s*:\s*"([^"\\]+)""#),
            gcp_project: re(r#""project_id"\s*:\s*"([^"\\]+)""#),
            github: re(r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b"),
            gitlab: re(r"\b((?:glpat|glrt|gldt)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,})"),
            slack: re(r"\b(xox[baprs]-[0-9]+-[0-9A-Za-z-]{10,})"),
            slack_webhook: re(
                r"https://hooks\.slack\.com/services/(T[A-Z0-9]{6,})/(B[A-Z0-9]{6,})/([A-Za-z0-9]{20,})",
            ),
            stripe: re(r"\b([sr]k_(live|test)_[A-Za-z0-9]{24,})\b"),
            azure_storage: re(r"AccountKey=([A-Za-z0-9+/]{86}==)"),
            azure_connection: re(
                r"(?:Endpoint=sb://([A-Za-z0-9.-]+)/?;)?(?:SharedAccessKeyName=([^;\s]+);)?SharedAccessKey=([A-Za-z0-9+/]{42,44}=?)",
            ),
            azure_sas: re(r"[?&;]sig=([A-Za-z0-9%+/=]{30,})"),
            docker_auth: re(r#""([^"\\]+)"\s*:\s*\{\s*"auth"\s*:\s*"([A-Za-z0-9+/=]{8,})""#),
            url: re(
                // The password runs to the last `@` of the authority (an unencoded `@` in a
                // password is common); the host must end where a host ends.
                r#"\b([a-zA-Z][a-zA-Z0-9+.-]{1,15})://([^\s:/?#@"'<>\[\]]{0,128}):([^\s/?#"'<>]{1,256})@([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?:[:/?#\s"'<>,;)\]]|$)"#,
            ),
            auth_header: re(
                r#"(?i)\b(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\[?\\?["']?[ \t]*(basic|bearer|token)[ \t]+([A-Za-z0-9._~+/=-]{8,})"#,
            ),
            assignment: re(
                r#"(?i)(?:^|[^A-Za-z0-9_.-])([A-Za-z0-9_.-]{0,40}(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|credential)[A-Za-z0-9_.-]{0,24})\\?["']?[ \t]*(?:[:=]|=>)[ \t]*\\?["']?([^\s"'`,;{}()\[\]\\]+)"#,
            ),
            flag_assignment: re(
                r#"(?i)(?:^|\s)(--?[a-z0-9-]*(?:password|passwd|token|secret|api-key|apikey)[a-z0-9-]*)[ 	]+([^\s"'`-][^\s"'`]*)"#,
            ),
            azure_account: re(r"AccountName=([A-Za-z0-9]{3,24});"),
            // A PEM encoded in base64, as kubeconfigs hold keys (`client-key-data`).
            pem_base64: re(r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{40,}={0,2}"),
        };
        Detectors {
            prefilter,
            overlapping,
            families,
            re,
        }
    }

    /// Whether an anchor at `start..end` of raw (possibly JSON-escaped) bytes is worth decoding
    /// its line for. The frequent anchors — `://` in every URL, `token` and `secret` in prose —
    /// must be followed by what their detector needs (`user:pass@`, `= value`), checked on the
    /// bytes directly so that ordinary lines cost no decoding.
    pub fn worth_a_look(&self, bytes: &[u8], pattern: usize, start: usize, end: usize) -> bool {
        match self.families[pattern] {
            Family::Url => {
                // `scheme://user:pass@host`: an `@` before the authority ends.
                let rest = &bytes[end..bytes.len().min(end + 400)];
                let mut colon = false;
                for &b in rest {
                    match b {
                        b'@' => return colon,
                        b':' => colon = true,
                        // A `\` is no stop: Docker writes `&` in a password as `\u0026`.
                        b'/' | b' ' | b'\n' | b'"' | b'\'' | b'?' | b'#' | b'<' | b'>' => {
                            return false;
                        }
                        _ => {}
                    }
                }
                false
            }
            Family::Assignment | Family::AuthHeader => {
                // The rest of the key, an optional (escaped) quote, spaces, then `=` or `:`.
                let rest = &bytes[end..bytes.len().min(end + 80)];
                let mut i = 0;
                while i < rest.len()
                    && (rest[i].is_ascii_alphanumeric() || matches!(rest[i], b'_' | b'.' | b'-'))
                {
                    i += 1;
                }
                // A command-line flag (`--db-password VALUE`) takes its value after a space.
                let key_start = bytes[..start]
                    .iter()
                    .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')))
                    .map_or(0, |p| p + 1);
                if bytes.get(key_start) == Some(&b'-') && rest.get(i) == Some(&b' ') {
                    return true;
                }
                while i < rest.len() && matches!(rest[i], b'\\' | b'"' | b'\'' | b' ' | b'\t') {
                    i += 1;
                }
                i < rest.len() && matches!(rest[i], b'=' | b':')
            }
            _ => true,
        }
    }

    /// The raw-bytes prefilter: every anchor occurrence in `bytes` worth decoding its line for.
    pub fn candidates<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        self.prefilter
            .find_iter(bytes)
            .filter(move |m| self.worth_a_look(bytes, m.pattern().as_usize(), m.start(), m.end()))
            .map(|m| m.start())
    }

    /// Detects the credentials in one message. `following` holds the next messages of the same
    /// stream when the caller has them (a PEM body, an AWS secret on the next line); `needs`
    /// says whether they would change the answer.
    pub fn detect(&self, message: &str, following: &[&str]) -> (Vec<Detection>, Needs) {
        let mut present = [false; FAMILIES];
        for m in self.overlapping.find_overlapping_iter(message) {
            let pattern = m.pattern().as_usize();
            if self.worth_a_look(message.as_bytes(), pattern, m.start(), m.end()) {
                present[self.families[pattern] as usize] = true;
            }
        }
        let mut found = Vec::new();
        let mut needs = Needs::default();
        let has = |f: Family| present[f as usize];
        if has(Family::Aws) {
            self.aws(message, following, &mut found, &mut needs);
        }
        if has(Family::Assignment) {
            self.aws_secret_alone(message, &mut found);
        }
        if has(Family::Jwt) {
            self.jwts(message, &mut found);
        }
        if has(Family::Gcp) {
            self.block(
                message,
                following,
                "\"private_key\"",
                &mut needs,
                &mut found,
                |d, text, out| d.gcp(text, out),
            );
        }
        if has(Family::Pem) {
            self.pem(message, following, &mut found, &mut needs);
        }
        if has(Family::GitHub) {
            self.prefixed(message, &self.re.github, "github_token", &mut found);
        }
        if has(Family::GitLab) {
            self.prefixed(message, &self.re.gitlab, "gitlab_token", &mut found);
        }
        if has(Family::Slack) {
            self.prefixed(message, &self.re.slack, "slack_token", &mut found);
        }
        if has(Family::SlackWebhook) {
            self.slack_webhook(message, &mut found);
        }
        if has(Family::Stripe) {
            self.stripe(message, &mut found);
        }
        if has(Family::AzureStorage) {
            self.azure_storage(message, &mut found);
        }
        if has(Family::AzureConnection) {
            self.azure_connection(message, &mut found);
        }
        if has(Family::AzureSas) {
            self.azure_sas(message, &mut found);
        }
        if has(Family::DockerAuth) {
            self.block(
                message,
                following,
                "\"auth\"",
                &mut needs,
                &mut found,
                |d, text, out| d.docker_auth(text, out),
            );
        }
        if has(Family::Url) {
            self.urls(message, &mut found);
        }
        if has(Family::AuthHeader) {
            self.auth_headers(message, &mut found);
        }
        if has(Family::Assignment) {
            self.assignments(message, &mut found);
        }
        (keep_most_specific(found), needs)
    }

    /// A key file printed whole, on one line or pretty-printed over the next ones: detects on
    /// the message, or (when `marker`, the key's own field, is not in it) on the message joined
    /// with the lines after it, up to the line that holds the key.
    fn block(
        &self,
        message: &str,
        following: &[&str],
        marker: &str,
        needs: &mut Needs,
        out: &mut Vec<Detection>,
        detect: impl Fn(&Self, &str, &mut Vec<Detection>),
    ) {
        if message.contains(marker) {
            return detect(self, message, out);
        }
        if following.is_empty() {
            needs.json_block = true;
            return;
        }
        let Some(last) = following.iter().position(|l| l.contains(marker)) else {
            return;
        };
        // Through the key's line, and on to the end of the document (a GCP key's
        // `client_email` comes after its `private_key`).
        let last = following[last..]
            .iter()
            .position(|l| matches!(l.trim(), "}" | "},"))
            .map_or(last, |close| last + close);
        let mut text = message.to_owned();
        for line in &following[..=last] {
            text.push('\n');
            text.push_str(line);
        }
        let before = out.len();
        detect(self, &text, out);
        for d in &mut out[before..] {
            // The span is the message's: the finding is reported at its first line.
            d.start = 0;
            d.end = message.len();
            d.lines_used = last + 1;
        }
    }

    fn aws(&self, message: &str, following: &[&str], out: &mut Vec<Detection>, needs: &mut Needs) {
        for c in self.re.aws_key.captures_iter(message) {
            let Some(key) = c.get(1) else { continue };
            let id = key.as_str();
            let temporary = id.starts_with("ASIA");
            // The secret: keyed anywhere on this line or the next three, or a bare 40-character
            // mixed-case value on this line (a credentials CSV).
            let same_line = self.aws_secret_in(message, true);
            let mut lines_used = 0;
            let secret = same_line.as_ref().map(|(s, _)| s.clone()).or_else(|| {
                following.iter().take(3).enumerate().find_map(|(i, l)| {
                    let (s, _) = self.aws_secret_in(l, false)?;
                    lines_used = i + 1;
                    Some(s)
                })
            });
            if secret.is_none() && following.is_empty() {
                needs.aws_secret = true;
            }
            // The finding covers the secret on the same line, so that the secret's `key=value`
            // is not reported again as an assignment.
            let (start, end) = match &same_line {
                Some((_, span)) => (key.start().min(span.start), key.end().max(span.end)),
                None => (key.start(), key.end()),
            };
            let example = id.contains("EXAMPLE");
            let details = vec![
                ("secret_adjacent", serde_json::Value::Bool(secret.is_some())),
                // Enough of the key id to find it in CloudTrail, not the whole of it.
                (
                    "key_id_hint",
                    format!("{}…{}", &id[..4], &id[id.len() - 4..]).into(),
                ),
                (
                    "key_type",
                    (if temporary {
                        "temporary (ASIA, needs a session token)"
                    } else {
                        "long-term (AKIA)"
                    })
                    .into(),
                ),
            ];
            let (severity, reason) = match &secret {
                Some(_) => (
                    Severity::Critical,
                    "AWS access key id with its secret access key beside it: a usable key pair",
                ),
                None => (
                    Severity::Medium,
                    "AWS access key id; no secret access key found beside it",
                ),
            };
            out.push(Detection {
                kind: "aws_access_key",
                start,
                end,
                // The secret is the credential: its fingerprint matches the same secret seen
                // elsewhere (a redacted Secret, another log).
                value: secret.unwrap_or_else(|| id.to_owned()),
                confidence: Confidence::High,
                severity,
                reason: reason.to_owned(),
                details,
                example,
                lines_used,
                specificity: 3,
            });
        }
    }

    /// A secret access key in a line, with the span of its `key = value` (or of the bare value).
    fn aws_secret_in(
        &self,
        line: &str,
        allow_bare: bool,
    ) -> Option<(String, std::ops::Range<usize>)> {
        if let Some(c) = self.re.aws_secret_keyed.captures(line) {
            let (all, secret) = (c.get(0)?, c.get(1)?);
            return Some((secret.as_str().to_owned(), all.start()..secret.end()));
        }
        if !allow_bare {
            return None;
        }
        self.re.aws_secret_bare.captures_iter(line).find_map(|c| {
            let m = c.get(1)?;
            let s = m.as_str();
            let mixed = s.bytes().any(|b| b.is_ascii_uppercase())
                && s.bytes().any(|b| b.is_ascii_lowercase())
                && s.bytes()
                    .any(|b| b.is_ascii_digit() || b == b'/' || b == b'+');
            (mixed && entropy(s) > 4.0).then(|| (s.to_owned(), m.range()))
        })
    }

    fn aws_secret_alone(&self, message: &str, out: &mut Vec<Detection>) {
        if self.re.aws_key.is_match(message) {
            return; // reported with its key id
        }
        for c in self.re.aws_secret_keyed.captures_iter(message) {
            let Some(secret) = c.get(1) else { continue };
            let s = secret.as_str();
            if entropy(s) < 3.5 {
                continue;
            }
            out.push(Detection {
                kind: "aws_secret_key",
                start: c.get(0).map_or(secret.start(), |m| m.start()),
                end: secret.end(),
                value: s.to_owned(),
                confidence: Confidence::Medium,
                severity: Severity::High,
                reason: "AWS secret access key (40 characters after a secret-key name)".to_owned(),
                details: vec![],
                example: s.contains("EXAMPLEKEY"),
                lines_used: 0,
                specificity: 2,
            });
        }
    }

    fn jwts(&self, message: &str, out: &mut Vec<Detection>) {
        for m in self.re.jwt.find_iter(message) {
            let Some(token) = jwt::decode(m.as_str()) else {
                continue; // JWT-shaped but not a JWT
            };
            // An unsigned token (`alg: none`) proves nothing to anyone: not a credential.
            if token.signature_len < 10 || token.alg.eq_ignore_ascii_case("none") {
                continue;
            }
            let now = jiff::Timestamp::now().as_second();
            let expired = token.exp.is_some_and(|exp| exp < now);
            let service_account = token.is_service_account();
            let mut details = Vec::new();
            if let Some(iss) = &token.iss {
                details.push(("issuer", iss.clone().into()));
            }
            if let Some(sub) = &token.sub {
                details.push(("subject", sub.clone().into()));
            }
            details.push(("algorithm", token.alg.clone().into()));
            details.push((
                "expires",
                match token.exp {
                    Some(exp) => jiff::Timestamp::from_second(exp)
                        .map(|t| t.to_string())
                        .unwrap_or_else(|_| exp.to_string())
                        .into(),
                    None => "never".into(),
                },
            ));
            details.push(("expired", expired.into()));
            if let Some(pod) = &token.pod {
                details.push(("bound_pod", pod.clone().into()));
            }
            let (kind, severity, what) = match (service_account, expired) {
                (true, false) => (
                    "kubernetes_service_account_token",
                    Severity::Critical,
                    "Kubernetes service-account token",
                ),
                (true, true) => (
                    "kubernetes_service_account_token",
                    Severity::Low,
                    "expired Kubernetes service-account token",
                ),
                (false, false) => ("jwt", Severity::High, "JSON Web Token"),
                (false, true) => ("jwt", Severity::Low, "expired JSON Web Token"),
            };
            let mut reason = what.to_owned();
            if let Some(sub) = &token.sub {
                reason.push_str(&format!(" for {sub}"));
            }
            if let Some(iss) = &token.iss {
                reason.push_str(&format!(" issued by {iss}"));
            }
            if service_account && token.exp.is_none() {
                reason.push_str(" (legacy token: never expires)");
            }
            out.push(Detection {
                kind,
                start: m.start(),
                end: m.end(),
                value: m.as_str().to_owned(),
                confidence: Confidence::High,
                severity,
                reason,
                details,
                example: token.is_documentation_example(),
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn gcp(&self, message: &str, out: &mut Vec<Detection>) {
        let Some(type_at) = message.find("\"service_account\"") else {
            return;
        };
        let Some(key_at) = message.find("\"private_key\"") else {
            return;
        };
        let Some(pem) = self.re.pem_begin.find(message) else {
            return;
        };
        let end = self
            .re
            .pem_end
            .find_at(message, pem.end())
            .map_or(message.len(), |m| m.end());
        let body = pem_body(&message[pem.end()..end]);
        let mut details = Vec::new();
        let email = self
            .re
            .gcp_email
            .captures(message)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned());
        if let Some(email) = &email {
            details.push(("client_email", email.clone().into()));
        }
        if let Some(project) = self.re.gcp_project.captures(message).and_then(|c| c.get(1)) {
            details.push(("project_id", project.as_str().into()));
        }
        out.push(Detection {
            kind: "gcp_service_account_key",
            start: type_at.min(key_at).min(pem.start()),
            end,
            value: body,
            confidence: Confidence::High,
            severity: Severity::Critical,
            reason: format!(
                "Google Cloud service-account key file (JSON with its private key){}",
                email.map(|e| format!(" for {e}")).unwrap_or_default()
            ),
            details,
            example: false,
            lines_used: 0,
            specificity: 4,
        });
    }

    fn pem(&self, message: &str, following: &[&str], out: &mut Vec<Detection>, needs: &mut Needs) {
        // A PEM encoded in base64 (kubeconfig `client-key-data`, a Secret's data dumped).
        for m in self.re.pem_base64.find_iter(message) {
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(m.as_str()) else {
                continue;
            };
            let Ok(text) = String::from_utf8(decoded) else {
                continue;
            };
            let mut inner = Vec::new();
            self.pem(&text, &[], &mut inner, &mut Needs::default());
            for mut d in inner {
                d.start = m.start();
                d.end = m.end();
                d.reason
                    .push_str(" (base64-encoded, as kubeconfigs and Secret data hold keys)");
                out.push(d);
            }
        }
        for begin in self.re.pem_begin.captures_iter(message) {
            let (Some(all), Some(label)) = (begin.get(0), begin.get(1)) else {
                continue;
            };
            let mut lines_used = 0;
            let algorithm = match label.as_str().split(' ').next() {
                Some("PRIVATE") => "PKCS8",
                Some(first) => first,
                None => "PKCS8",
            };
            // The body: on this line (one line with `\n` escapes), or on the lines after it.
            let (body, complete) = match self.re.pem_end.find_at(message, all.end()) {
                Some(end) => (pem_body(&message[all.end()..end.start()]), true),
                None => {
                    // The rest of this line counts only as body text (`\n`-escaped base64).
                    let rest = &message[all.end()..];
                    let mut body = if rest.replace("\\n", "\n").lines().all(is_pem_body_line) {
                        pem_body(rest)
                    } else {
                        String::new()
                    };
                    let mut complete = false;
                    for (i, line) in following.iter().enumerate() {
                        if let Some(end) = self.re.pem_end.find(line) {
                            body.push_str(&pem_body(&line[..end.start()]));
                            complete = true;
                            lines_used = i + 1;
                            break;
                        }
                        if !is_pem_body_line(line) {
                            break; // the key's body ended (or never began) without its END line
                        }
                        body.push_str(&pem_body(line));
                        lines_used = i + 1;
                    }
                    if !complete && following.is_empty() {
                        needs.pem_body = true;
                    }
                    (body, complete)
                }
            };
            if body.len() < 40 {
                // A header with no key after it (an error message naming the format, a key
                // cut off): nothing usable is in the log. Wait for the lines after it first.
                continue;
            }
            let encrypted = algorithm == "ENCRYPTED" || body_says_encrypted(message);
            let (severity, reason) = if !complete {
                (
                    Severity::Medium,
                    format!("{algorithm} private key, cut off before its END line"),
                )
            } else if encrypted {
                (
                    Severity::Medium,
                    "encrypted private key (usable with its passphrase)".to_owned(),
                )
            } else {
                (Severity::High, format!("{algorithm} private key"))
            };
            out.push(Detection {
                kind: "private_key",
                start: all.start(),
                end: message.len().min(all.end() + body.len()),
                value: if body.is_empty() {
                    all.as_str().to_owned()
                } else {
                    body
                },
                confidence: if complete {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                severity,
                reason,
                details: vec![
                    ("algorithm", algorithm.into()),
                    ("complete", complete.into()),
                ],
                example: false,
                lines_used,
                specificity: 3,
            });
        }
    }

    fn prefixed(&self, message: &str, re: &Regex, kind: &'static str, out: &mut Vec<Detection>) {
        for c in re.captures_iter(message) {
            let Some(token) = c.get(1) else { continue };
            let t = token.as_str();
            let (label, severity) = token_label(t);
            out.push(Detection {
                kind,
                start: token.start(),
                end: token.end(),
                value: t.to_owned(),
                confidence: Confidence::High,
                severity,
                reason: label.to_owned(),
                details: vec![("token_type", label.into())],
                example: is_placeholder_body(t),
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn slack_webhook(&self, message: &str, out: &mut Vec<Detection>) {
        for c in self.re.slack_webhook.captures_iter(message) {
            let (Some(all), Some(team)) = (c.get(0), c.get(1)) else {
                continue;
            };
            out.push(Detection {
                kind: "slack_webhook",
                start: all.start(),
                end: all.end(),
                value: all.as_str().to_owned(),
                confidence: Confidence::High,
                severity: Severity::High,
                reason: "Slack incoming-webhook URL (anyone holding it can post as the app)"
                    .to_owned(),
                details: vec![("team", team.as_str().into())],
                example: is_placeholder_body(c.get(3).map_or("", |m| m.as_str())),
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn stripe(&self, message: &str, out: &mut Vec<Detection>) {
        for c in self.re.stripe.captures_iter(message) {
            let (Some(key), Some(mode)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let live = mode.as_str() == "live";
            let restricted = key.as_str().starts_with('r');
            out.push(Detection {
                kind: "stripe_key",
                start: key.start(),
                end: key.end(),
                value: key.as_str().to_owned(),
                confidence: Confidence::High,
                severity: if live {
                    Severity::Critical
                } else {
                    Severity::Low
                },
                reason: format!(
                    "Stripe {} {} key",
                    if restricted { "restricted" } else { "secret" },
                    if live { "live-mode" } else { "test-mode" }
                ),
                details: vec![("mode", mode.as_str().into())],
                example: key.as_str() == "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
                    || is_placeholder_body(key.as_str()),
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn azure_storage(&self, message: &str, out: &mut Vec<Detection>) {
        for c in self.re.azure_storage.captures_iter(message) {
            let Some(key) = c.get(1) else { continue };
            // The account of the same connection string: the last `AccountName=` before the key.
            let account = self
                .re
                .azure_account
                .captures_iter(&message[..key.start()])
                .last()
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_owned());
            let mut details = Vec::new();
            if let Some(account) = &account {
                details.push(("account", account.clone().into()));
            }
            out.push(Detection {
                kind: "azure_storage_key",
                start: key.start().saturating_sub("AccountKey=".len()),
                end: key.end(),
                value: key.as_str().to_owned(),
                confidence: Confidence::High,
                severity: Severity::Critical,
                reason: format!(
                    "Azure Storage account key{}",
                    account
                        .map(|a| format!(" for account {a}"))
                        .unwrap_or_default()
                ),
                details,
                example: is_placeholder_body(key.as_str()),
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn azure_connection(&self, message: &str, out: &mut Vec<Detection>) {
        for c in self.re.azure_connection.captures_iter(message) {
            let (Some(all), Some(key)) = (c.get(0), c.get(3)) else {
                continue;
            };
            let mut details = Vec::new();
            if let Some(host) = c.get(1) {
                details.push(("endpoint", host.as_str().into()));
            }
            if let Some(name) = c.get(2) {
                details.push(("key_name", name.as_str().into()));
            }
            out.push(Detection {
                kind: "azure_connection_string",
                start: all.start(),
                end: all.end(),
                value: key.as_str().to_owned(),
                confidence: Confidence::High,
                severity: Severity::Critical,
                reason:
                    "Azure Service Bus / Event Hubs connection string with its shared access key"
                        .to_owned(),
                details,
                example: is_placeholder_body(key.as_str()),
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn azure_sas(&self, message: &str, out: &mut Vec<Detection>) {
        if !message.contains("sv=") {
            return;
        }
        for c in self.re.azure_sas.captures_iter(message) {
            let Some(sig) = c.get(1) else { continue };
            let expiry = message[..sig.start()]
                .rsplit_once("se=")
                .map(|(_, rest)| rest.split(['&', ';', ' ']).next().unwrap_or_default());
            let mut details = Vec::new();
            if let Some(se) = expiry {
                details.push(("expires", percent_decode(se).into()));
            }
            out.push(Detection {
                kind: "azure_sas_token",
                start: sig.start(),
                end: sig.end(),
                value: sig.as_str().to_owned(),
                confidence: Confidence::High,
                severity: Severity::High,
                reason:
                    "Azure shared access signature (a signed URL granting access until it expires)"
                        .to_owned(),
                details,
                example: false,
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn docker_auth(&self, message: &str, out: &mut Vec<Detection>) {
        for c in self.re.docker_auth.captures_iter(message) {
            let (Some(registry), Some(auth)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let Some((user, password)) = decode_basic(auth.as_str()) else {
                continue;
            };
            if password.is_empty() {
                continue;
            }
            out.push(Detection {
                kind: "docker_config_auth",
                start: registry.start(),
                end: auth.end(),
                value: auth.as_str().to_owned(),
                confidence: Confidence::High,
                severity: Severity::High,
                reason: format!(
                    "Docker config.json registry credentials for {} (user {})",
                    registry.as_str(),
                    printable_user(&user)
                ),
                details: vec![
                    ("registry", registry.as_str().into()),
                    ("user", printable_user(&user).into()),
                ],
                example: is_placeholder_value(&password),
                lines_used: 0,
                specificity: 3,
            });
        }
    }

    fn urls(&self, message: &str, out: &mut Vec<Detection>) {
        for c in self.re.url.captures_iter(message) {
            let (Some(all), Some(user), Some(password), Some(host)) =
                (c.get(0), c.get(2), c.get(3), c.get(4))
            else {
                continue;
            };
            if is_placeholder_value(password.as_str()) {
                continue;
            }
            let user = printable_user(user.as_str());
            out.push(Detection {
                kind: "url_credentials",
                start: all.start(),
                end: all.end(),
                value: password.as_str().to_owned(),
                confidence: Confidence::High,
                severity: Severity::High,
                reason: format!("password in a URL for {user}@{}", host.as_str()),
                details: vec![("user", user.into()), ("host", host.as_str().into())],
                example: false,
                lines_used: 0,
                specificity: 2,
            });
        }
    }

    fn auth_headers(&self, message: &str, out: &mut Vec<Detection>) {
        for c in self.re.auth_header.captures_iter(message) {
            let (Some(all), Some(scheme), Some(credential)) = (c.get(0), c.get(1), c.get(2)) else {
                continue;
            };
            let value = credential.as_str();
            if is_placeholder_value(value) {
                continue;
            }
            let basic = scheme.as_str().eq_ignore_ascii_case("basic");
            let mut details = vec![(
                "scheme",
                (if basic {
                    "Basic"
                } else if scheme.as_str().eq_ignore_ascii_case("token") {
                    "Token"
                } else {
                    "Bearer"
                })
                .into(),
            )];
            let reason = if basic {
                let Some((user, password)) = decode_basic(value) else {
                    continue;
                };
                if password.is_empty() {
                    continue;
                }
                let user = printable_user(&user);
                details.push(("user", user.clone().into()));
                format!("HTTP Basic credentials for user {user} in an Authorization header")
            } else {
                if value.len() < 20 || entropy(value) < 3.0 {
                    continue;
                }
                "bearer token in an Authorization header".to_owned()
            };
            out.push(Detection {
                kind: "authorization_header",
                start: all.start(),
                end: all.end(),
                value: value.to_owned(),
                confidence: Confidence::High,
                severity: Severity::High,
                reason,
                details,
                example: false,
                lines_used: 0,
                specificity: 1,
            });
        }
    }

    fn assignments(&self, message: &str, out: &mut Vec<Detection>) {
        let pairs = self
            .re
            .assignment
            .captures_iter(message)
            .chain(self.re.flag_assignment.captures_iter(message));
        for c in pairs {
            let (Some(all), Some(key), Some(value)) = (c.get(0), c.get(1), c.get(2)) else {
                continue;
            };
            if !credential_key(key.as_str()) {
                continue;
            }
            // A "key" that is itself a token (a base64 run holding `token` before its `=`
            // padding) is no key, and must not be printed as one.
            let bare_key = key.as_str().trim_start_matches('-');
            if bare_key.len() >= 20 && entropy(bare_key) > 3.5 && char_classes(bare_key) >= 3 {
                continue;
            }
            // `checksum/secret: <sha256>` (Helm), `sha256 of secret: …`: a digest, not the secret.
            let before = &message[all.start().saturating_sub(24)..key.start()];
            let lower_before = before.to_ascii_lowercase();
            if ["checksum", "sha256", "sha1", "md5", "digest", "hash"]
                .iter()
                .any(|w| lower_before.contains(w))
            {
                continue;
            }
            let mut v = value.as_str();
            // In a query string the value ends where the next parameter begins.
            if let Some(i) = v.match_indices('&').map(|(i, _)| i).find(|&i| {
                let rest = &v[i + 1..];
                let name_len = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                name_len > 0 && rest.as_bytes().get(name_len) == Some(&b'=')
            }) {
                v = &v[..i];
            }
            if v.len() < 8 || v.len() > 512 || is_placeholder_value(v) || v.contains("://") {
                continue;
            }
            if v.starts_with('/') || v.starts_with("./") {
                continue; // a path to the credential, not the credential
            }
            if v.trim_end_matches('=').contains('=') {
                continue; // another assignment (`git-credential: protocol=https`)
            }
            // Kubernetes logs name Secrets and tokens far more often than they print them:
            // `secret="shop/frontend-basic-auth"` (ingress-nginx), `secret=db-creds`.
            if looks_like_object_name(v) && (v.contains('/') || names_an_object(key.as_str())) {
                continue;
            }
            let bits = entropy(v);
            let classes = char_classes(v);
            if bits < 2.5 || (classes < 2 && v.len() < 16) || (classes < 2 && bits < 3.0) {
                continue;
            }
            let confidence = if bits >= 3.5 && v.len() >= 12 {
                Confidence::Medium
            } else {
                Confidence::Low
            };
            out.push(Detection {
                kind: "secret_assignment",
                start: all.start(),
                end: all.end(),
                value: v.to_owned(),
                confidence,
                severity: Severity::Medium,
                reason: format!(
                    "value assigned to `{}` ({} characters, {bits:.1} bits of entropy per character)",
                    key.as_str(),
                    v.chars().count()
                ),
                details: vec![("key", key.as_str().into())],
                example: false,
                lines_used: 0,
                specificity: 0,
            });
        }
    }
}

/// Drops a match that lies inside (or overlaps) a more specific one: one credential, one
/// finding.
fn keep_most_specific(mut found: Vec<Detection>) -> Vec<Detection> {
    found.sort_by(|a, b| {
        b.specificity
            .cmp(&a.specificity)
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Detection> = Vec::with_capacity(found.len());
    for d in found {
        let overlaps = kept
            .iter()
            .any(|k| d.start < k.end && k.start < d.end && k.specificity >= d.specificity);
        if !overlaps {
            kept.push(d);
        }
    }
    kept.sort_by_key(|d| d.start);
    kept
}

/// A key that names a credential (`password`, `DB_PASSWORD`, `clientSecret`, `api-key`) rather
/// than a reference to or a property of one (`secret_name`, `token_path`, `password_hash`).
fn credential_key(key: &str) -> bool {
    const NOT: &[&str] = &[
        "name",
        "names",
        "ref",
        "path",
        "file",
        "url",
        "uri",
        "type",
        "mode",
        "selector",
        "hash",
        "id",
        "ids",
        "len",
        "length",
        "count",
        "policy",
        "ttl",
        "expiry",
        "expires",
        "expiration",
        "version",
        "prefix",
        "reset",
        "enabled",
        "required",
        "changed",
        "set",
        "dir",
        "namespace",
        "source",
        "store",
        "provider",
        "format",
        "size",
        "kind",
        "field",
        "age",
        "rotation",
        "manager",
        "audience",
        "endpoint",
        "header",
        "cache",
        "validation",
        "at",
        "time",
    ];
    // The last word of `snake_case`, `kebab-case`, `dotted.keys` or `camelCase`.
    let start = key
        .char_indices()
        .rev()
        .find(|&(i, c)| {
            matches!(c, '_' | '-' | '.')
                || (c.is_ascii_uppercase()
                    && key[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|p| p.is_ascii_lowercase()))
        })
        .map_or(0, |(i, c)| if c.is_ascii_uppercase() { i } else { i + 1 });
    let last = key[start..].to_ascii_lowercase();
    // Tokens that grant nothing outside their exchange: paging cursors, CSRF tokens.
    const NOT_CREDENTIALS: &[&str] = &[
        "page",
        "csrf",
        "xsrf",
        "cursor",
        "continue",
        "next",
        "resume",
        "idempotency",
        "checksum",
        "pagination",
        "sync",
        "nonce",
        "state",
    ];
    !NOT.contains(&last.as_str())
        && !key_words(key)
            .iter()
            .any(|w| NOT_CREDENTIALS.contains(&w.as_str()))
}

/// The words of a key: `next_page_token` → next, page, token; `csrfToken` → csrf, token.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if matches!(c, '_' | '-' | '.' | '/') {
            words.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase();
        current.push(c.to_ascii_lowercase());
    }
    words.extend((!current.is_empty()).then_some(current));
    words
}

/// A Kubernetes object name or `namespace/name` reference: lowercase DNS labels.
fn looks_like_object_name(value: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && l.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && l.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
    };
    let mut parts = value.split('/');
    let first = parts.next().is_some_and(label);
    let second = parts.next().is_none_or(label);
    // A UUID is a token's shape, not a name's.
    let uuid = value.len() == 36
        && value.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if uuid {
        return false;
    }
    // Names are words joined by separators; a run of hex or base36 (a token) is not one.
    let worded = value.bytes().any(|b| matches!(b, b'-' | b'.' | b'/'))
        || !value.bytes().any(|b| b.is_ascii_digit());
    first && second && parts.next().is_none() && worded
}

/// Keys whose last word is a kind of object as often as a value (`secret`, `token`).
fn names_an_object(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let last = lower.rsplit(['_', '-', '.']).next().unwrap_or(&lower);
    matches!(
        last,
        "secret" | "secrets" | "token" | "credential" | "credentials"
    )
}

/// Values that stand for a credential without being one.
pub fn is_placeholder_value(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "changeme",
        "change_me",
        "changeit",
        "password",
        "passw0rd",
        "secret",
        "example",
        "redacted",
        "removed",
        "hidden",
        "masked",
        "null",
        "none",
        "nil",
        "true",
        "false",
        "undefined",
        "your_password",
        "yourpassword",
        "your-password",
        "mypassword",
        "dummy",
        "placeholder",
        "xxxxxxxx",
        "password123",
        "sensitive",
        "filtered",
        "omitted",
        "notset",
        "not_set",
        "empty",
        "default",
        "required",
        "optional",
        "token",
        "bearer",
    ];
    let v = value.trim_matches(|c: char| c == '"' || c == '\'');
    let lower = v.to_ascii_lowercase();
    WORDS.contains(&lower.as_str())
        // `${VAR}`, `$(cmd)`, `$VAR`
        || v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.starts_with('%')
        || v.starts_with("[REDACTED")
        || v.contains("***")
        || lower.contains("xxxx")
        || lower.starts_with("your")
        || lower.contains("example")
        || lower.contains("redacted")
        || lower.contains("placeholder")
        || is_placeholder_body(v)
}

/// A token whose random part is one repeated character (`ghp_xxxx…`, `glpat-0000…`) or says it is
/// an example.
fn is_placeholder_body(token: &str) -> bool {
    let body = token
        .rsplit(['_', '-'])
        .next()
        .filter(|b| b.len() >= 8)
        .unwrap_or(token);
    let mut chars = body.chars();
    let first = chars.next();
    let repeated = first.is_some() && chars.all(|c| Some(c) == first);
    repeated || body.to_ascii_uppercase().contains("EXAMPLE")
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn char_classes(s: &str) -> usize {
    let b = s.as_bytes();
    [
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_digit),
        b.iter().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&x| x)
    .count()
}

/// The base64 characters of a PEM body, with line breaks and literal `\n` escapes removed.
fn pem_body(text: &str) -> String {
    text.replace("\\n", "\n")
        .replace("\\r", "\n")
        .lines()
        .filter(|l| !l.contains(':')) // `Proc-Type:` / `DEK-Info:` headers
        .flat_map(|l| l.chars())
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect()
}

/// A line of a PEM body: base64 of at most a line's width, or a `Proc-Type:`/`DEK-Info:`
/// header, or blank.
pub fn is_pem_body_line(line: &str) -> bool {
    let line = line.trim();
    line.is_empty()
        || line.starts_with("Proc-Type:")
        || line.starts_with("DEK-Info:")
        || (line.len() <= 100
            && line
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
}

fn body_says_encrypted(message: &str) -> bool {
    message.contains("Proc-Type: 4,ENCRYPTED")
}

/// `user:password` from a base64 Basic credential.
fn decode_basic(b64: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    if text.chars().any(char::is_control) {
        return None;
    }
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A user name fit to print: one that looks like a token itself (a GitHub token used as the URL
/// user) is withheld.
fn printable_user(user: &str) -> String {
    if user.len() >= 20 && entropy(user) > 3.5 && char_classes(user) >= 2 {
        "[withheld: looks like a token]".to_owned()
    } else {
        user.to_owned()
    }
}

fn token_label(token: &str) -> (&'static str, Severity) {
    match token.get(..4).unwrap_or_default() {
        "ghp_" => ("GitHub personal access token (classic)", Severity::High),
        "gho_" => ("GitHub OAuth access token", Severity::High),
        "ghu_" => ("GitHub App user-to-server token", Severity::High),
        "ghs_" => ("GitHub App installation token", Severity::High),
        "ghr_" => ("GitHub refresh token", Severity::High),
        "gith" => ("GitHub fine-grained personal access token", Severity::High),
        "glpa" => ("GitLab personal access token", Severity::High),
        "glrt" => ("GitLab runner authentication token", Severity::High),
        "gldt" => ("GitLab deploy token", Severity::High),
        "GR13" => ("GitLab runner registration token", Severity::Medium),
        "xoxb" => ("Slack bot token", Severity::High),
        "xoxp" => ("Slack user token", Severity::High),
        "xoxa" | "xoxr" => ("Slack app or refresh token", Severity::High),
        "xoxs" => ("Slack session token", Severity::High),
        _ => ("token", Severity::High),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
