//! Kubernetes object dumps (`kubectl get … -o json|yaml`, manifests, multi-document YAML):
//! credentials in plain sight — env literals of containers in pods and workload templates,
//! container arguments, ConfigMap data, annotations, and Secret manifests kept in clear in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation. A Secret's own `data` is where
//! a credential belongs and is not reported.

use base64::Engine as _;
use serde_json::Value;

use super::detect::{Confidence, Detection, Detectors};
use super::location::Location;
use crate::findings::Severity;

/// Bytes looked at to tell a dump from a log.
pub const SNIFF: usize = 4096;
/// Dumps larger than this are scanned as text.
pub const MAX_DUMP: usize = 512 << 20;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A JSON document with `apiVersion`/`kind` (not a Docker log line), or YAML with them at the
/// start of a line.
pub fn looks_like_dump(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if trimmed.starts_with("{\"log\"") {
        return false;
    }
    if trimmed.starts_with('{') {
        // JSON lines (an audit log, an application's log) are a log: the first line is a whole
        // object and another follows. A dump is one document.
        let mut lines = trimmed.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().unwrap_or_default().trim();
        let json_lines = first.ends_with('}')
            && lines
                .next()
                .is_some_and(|l| l.trim_start().starts_with('{'));
        return !json_lines && text.contains("\"apiVersion\"") && text.contains("\"kind\"");
    }
    text.lines().any(|l| l.starts_with("apiVersion:"))
        && text
            .lines()
            .any(|l| l.starts_with("kind:") || l.starts_with("items:"))
}

pub struct ObjectHit {
    pub detection: Detection,
    pub line: u64,
    pub location: Location,
    /// `Kind/namespace/name`.
    pub object: String,
    /// The field path inside the object (`spec.containers[0].env[DB_PASSWORD]`).
    pub field: String,
}

pub struct Walked {
    pub hits: Vec<ObjectHit>,
    pub objects: u64,
}

/// Why a file that looked like a dump could not be read as one.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Yaml(#[from] crate::rules::yaml::YamlError),
}

/// Parses a dump (JSON, or YAML with any number of documents) and walks its objects.
pub fn scan_dump(detectors: &Detectors, raw: &[u8]) -> Result<Walked, DumpError> {
    let text = std::str::from_utf8(raw).map_err(|_| DumpError::NotText)?;
    let documents: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(v) => vec![v],
        Err(_) => crate::rules::yaml::parse_documents(text)?
            .iter()
            .map(|n| n.to_json())
            .collect(),
    };
    let mut walker = Walker {
        detectors,
        text,
        cursor: 0,
        hits: Vec::new(),
        objects: 0,
    };
    for document in &documents {
        walker.object(document, None);
    }
    Ok(Walked {
        hits: walker.hits,
        objects: walker.objects,
    })
}

struct Walker<'a> {
    detectors: &'a Detectors,
    text: &'a str,
    /// Where the last value was found, for [`Walker::line_of`].
    cursor: usize,
    hits: Vec<ObjectHit>,
    objects: u64,
}

struct Scope<'s> {
    object: &'s str,
    location: &'s Location,
}

impl Walker<'_> {
    fn object(&mut self, value: &Value, inside: Option<&str>) {
        if let Some(items) = value.get("items").and_then(Value::as_array) {
            for item in items {
                self.object(item, inside);
            }
            return;
        }
        let Some(kind) = value.get("kind").and_then(Value::as_str) else {
            return;
        };
        self.objects += 1;
        let meta = value.get("metadata");
        let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
        let namespace = text("namespace");
        let name = text("name").unwrap_or("?");
        let object = match namespace {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        };
        let location = Location {
            namespace: namespace.map(str::to_owned),
            pod: (kind == "Pod").then(|| name.to_owned()),
            container: None,
            container_id: None,
        };
        let scope = Scope {
            object: &object,
            location: &location,
        };
        if let Some(annotations) = meta
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object)
        {
            for (key, v) in annotations {
                let Some(v) = v.as_str() else { continue };
                let field = format!("metadata.annotations[{key}]");
                if key == LAST_APPLIED {
                    self.last_applied(v, &scope, &field);
                } else {
                    self.detect(&format!("{key}={v}"), &scope, &field);
                }
            }
        }
        if kind == "Secret" && inside.is_some() {
            self.secret_in_clear(value, &scope);
        }
        // Everything else, leaf by leaf: a Secret's own data is where credentials belong, and
        // annotations and managed fields were handled or hold none.
        if let Some(fields) = value.as_object() {
            for (key, v) in fields {
                match key.as_str() {
                    "data" | "stringData" if kind == "Secret" => {}
                    "metadata" => {}
                    _ => self.leaves(v, key, key, &scope),
                }
            }
        }
    }

    /// Walks a value: strings are scanned as `key=value` (so a credential-named key counts),
    /// `env`-style lists as `NAME=value`, `command`/`args` lists as one command line, and the
    /// elements of container lists scope what is under them to that container.
    fn leaves(&mut self, value: &Value, key: &str, path: &str, scope: &Scope<'_>) {
        match value {
            Value::String(text) => self.detect(&format!("{key}={text}"), scope, path),
            Value::Array(items) if matches!(key, "command" | "args") => {
                let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                self.detect(&joined.join(" "), scope, path);
            }
            Value::Array(items) => {
                let containers =
                    matches!(key, "containers" | "initContainers" | "ephemeralContainers");
                for (i, item) in items.iter().enumerate() {
                    let name = item.get("name").and_then(Value::as_str);
                    // `{name, value}`: an environment variable (or a kubeconfig exec env).
                    if let (Some(name), Some(text)) =
                        (name, item.get("value").and_then(Value::as_str))
                    {
                        self.detect(&format!("{name}={text}"), scope, &format!("{path}[{name}]"));
                        continue;
                    }
                    let item_path = format!("{path}[{i}]");
                    match (containers, name) {
                        (true, Some(container)) => {
                            let location = Location {
                                container: Some(container.to_owned()),
                                ..scope.location.clone()
                            };
                            let inner = Scope {
                                location: &location,
                                ..*scope
                            };
                            self.leaves(item, key, &item_path, &inner);
                        }
                        _ => self.leaves(item, key, &item_path, scope),
                    }
                }
            }
            Value::Object(fields) => {
                for (k, v) in fields {
                    self.leaves(v, k, &format!("{path}.{k}"), scope);
                }
            }
            _ => {}
        }
    }

    /// A manifest kept whole in an annotation: a Secret there is its data in clear.
    fn last_applied(&mut self, manifest: &str, scope: &Scope<'_>, field: &str) {
        match serde_json::from_str::<Value>(manifest) {
            Ok(inner) => {
                let hits_before = self.hits.len();
                let objects_before = self.objects;
                self.object(&inner, Some(field));
                // The manifest is the same object again, not another one.
                self.objects = objects_before;
                for hit in &mut self.hits[hits_before..] {
                    hit.object = scope.object.to_owned();
                    hit.field = format!("{field}.{}", hit.field);
                }
            }
            Err(_) => self.detect(manifest, scope, field),
        }
    }

    fn secret_in_clear(&mut self, secret: &Value, scope: &Scope<'_>) {
        for key in ["data", "stringData"] {
            let Some(data) = secret.get(key).and_then(Value::as_object) else {
                continue;
            };
            for (name, v) in data {
                let Some(v) = v.as_str().filter(|v| !v.is_empty()) else {
                    continue;
                };
                // `data` is base64: the credential is what it decodes to, so that its
                // fingerprint matches the same value seen in clear elsewhere.
                let value = if key == "data" {
                    base64::engine::general_purpose::STANDARD
                        .decode(v)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .unwrap_or_else(|| v.to_owned())
                } else {
                    v.to_owned()
                };
                let detection = Detection::new(
                    "kubernetes_secret_data",
                    value,
                    Confidence::High,
                    Severity::High,
                    format!(
                        "Secret {key} `{name}` kept in clear in the last-applied-configuration annotation (readable by anyone who can get the object's metadata)"
                    ),
                    vec![("key", name.clone().into())],
                );
                self.push(detection, scope, &format!("{key}[{name}]"), v);
            }
        }
    }

    fn detect(&mut self, text: &str, scope: &Scope<'_>, field: &str) {
        let (detections, _) = self.detectors.detect(text, &[]);
        for detection in detections {
            // Where the value is written: the value itself, else the text it was found in (a
            // base64-encoded key is written encoded).
            let written = text
                .get(detection.start..detection.end)
                .unwrap_or_default()
                .to_owned();
            self.push(detection, scope, field, &written);
        }
    }

    fn push(&mut self, detection: Detection, scope: &Scope<'_>, field: &str, written: &str) {
        let line = match self.line_of(&detection.value) {
            Some(line) => line,
            None if !written.is_empty() => self.line_of(written).unwrap_or(1),
            None => 1,
        };
        self.hits.push(ObjectHit {
            detection,
            line,
            location: scope.location.clone(),
            object: scope.object.to_owned(),
            field: field.to_owned(),
        });
    }

    /// The line of the dump holding a value, None when it is not written as it is (escaped in
    /// JSON, base64-encoded).
    fn line_of(&mut self, value: &str) -> Option<u64> {
        let needle = value.get(..value.len().min(24)).unwrap_or(value);
        // Objects and fields are walked in the order they are written: the next occurrence
        // after the last one found is this value's (a value repeated in two objects gets two
        // lines).
        let at = self.text[self.cursor..]
            .find(needle)
            .map(|i| self.cursor + i)
            .or_else(|| self.text.find(needle));
        let at = at?;
        self.cursor = at + needle.len();
        Some(memchr::memchr_iter(b'\n', &self.text.as_bytes()[..at]).count() as u64 + 1)
    }
}
