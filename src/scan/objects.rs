//! Kubernetes object dumps (`kubectl get … -o json|yaml`, manifests, multi-document YAML):
//! credentials in plain sight — env literals of containers in pods and workload templates,
//! container arguments, ConfigMap data, annotations, and Secret manifests kept in clear in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation. A Secret's own `data` is where
//! a credential belongs and is not reported.

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
        // A JSON log line from an application is one line; a dump is an object spanning lines
        // or a single object with apiVersion and kind.
        return text.contains("\"apiVersion\"") && text.contains("\"kind\"");
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
                let detection = Detection::new(
                    "kubernetes_secret_data",
                    v.to_owned(),
                    Confidence::High,
                    Severity::High,
                    format!(
                        "Secret {key} `{name}` kept in clear in the last-applied-configuration annotation (readable by anyone who can get the object's metadata)"
                    ),
                    vec![("key", name.clone().into())],
                );
                self.push(detection, scope, &format!("{key}[{name}]"));
            }
        }
    }

    fn detect(&mut self, text: &str, scope: &Scope<'_>, field: &str) {
        let (detections, _) = self.detectors.detect(text, &[]);
        for detection in detections {
            self.push(detection, scope, field);
        }
    }

    fn push(&mut self, detection: Detection, scope: &Scope<'_>, field: &str) {
        let line = self.line_of(&detection.value);
        self.hits.push(ObjectHit {
            detection,
            line,
            location: scope.location.clone(),
            object: scope.object.to_owned(),
            field: field.to_owned(),
        });
    }

    /// The line of the dump holding a value (its first occurrence), 1 when it cannot be found
    /// as written (escaped in JSON).
    fn line_of(&self, value: &str) -> u64 {
        let needle = value.get(..value.len().min(24)).unwrap_or(value);
        match self.text.find(needle) {
            Some(at) => memchr::memchr_iter(b'\n', &self.text.as_bytes()[..at]).count() as u64 + 1,
            None => 1,
        }
    }
}
