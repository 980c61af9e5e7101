//! `credwatch scan`: credentials already exposed in container logs and Kubernetes object dumps,
//! found without ever printing them. A finding names the credential type, where it is (file:line,
//! namespace/pod/container from the kubelet's log layout), its length and a keyed fingerprint, so
//! that the same secret seen twice matches without being revealed.
//!
//! [`detect`] holds the detectors and their prefilter; [`logfile`] reads Docker json-file, CRI and
//! plain logs; [`objects`] walks object dumps; [`location`] reads namespace, pod and container
//! from a path; [`exposure`] turns a scan's findings into what `hunt --scan` needs.

pub mod detect;
pub mod exposure;
pub mod jwt;
pub mod location;
pub mod logfile;
pub mod objects;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::findings::{ReportFormat, Severity};
use crate::redact::Redactor;
use crate::source::{self, Input};
use detect::{Confidence, Detection, Detectors};
use location::Location;

/// One credential found, redacted: the findings contract plus what a scan knows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScanFinding {
    /// The credential type (`aws_access_key`, `kubernetes_service_account_token`, …).
    pub kind: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: String,
    /// `file:line` of the first occurrence.
    pub evidence: String,
    pub file: String,
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// A Docker (or CRI) container id, from `/var/lib/docker/containers/<id>/` or the
    /// `/var/log/containers` file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// For object dumps: the object (`Deployment/shop/web`) and the field holding the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The log line's own timestamp, when the format has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_time: Option<String>,
    /// Characters in the credential.
    pub length: usize,
    /// First 8 hex digits of HMAC-SHA256 under the installation key.
    pub fingerprint: String,
    /// How many times this credential appears in this file; `last_line` is the last.
    pub occurrences: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_line: Option<u64>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// A known documentation example (reported only with `--examples`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub example: bool,
}

/// What a scan read and found, for the summary line and the JSON document.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScanSummary {
    pub files: u64,
    pub bytes: u64,
    pub lines: u64,
    /// Kubernetes objects walked in object dumps.
    pub objects: u64,
    pub findings: u64,
    pub by_kind: BTreeMap<String, u64>,
    /// Documentation examples seen (not findings).
    pub examples: u64,
    /// Files that could not be read (named on stderr with the reason).
    pub errors: u64,
    /// Lines longer than the read block, scanned in pieces.
    pub long_lines: u64,
    /// Lines that claimed a format they did not hold; scanned as plain text.
    pub malformed_lines: u64,
    /// Files that looked like object dumps but did not parse; scanned as text.
    pub unparsed_dumps: u64,
}

impl ScanSummary {
    pub fn human(&self) -> String {
        let kinds: Vec<String> = self
            .by_kind
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        format!(
            "scanned {} files ({} bytes, {} lines, {} objects): {} findings{}; {} documentation examples ignored; {} unreadable files; {} over-long lines; {} malformed lines; {} unparsed object dumps",
            self.files,
            self.bytes,
            self.lines,
            self.objects,
            self.findings,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            },
            self.examples,
            self.errors,
            self.long_lines,
            self.malformed_lines,
            self.unparsed_dumps,
        )
    }
}

/// A path that could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{0}")]
    Source(#[from] source::SourceError),
    #[error("{path}: {message}")]
    Read { path: String, message: String },
}

/// A scan's result: findings in input order (file, then line), the summary and the errors.
pub struct ScanReport {
    pub findings: Vec<ScanFinding>,
    pub summary: ScanSummary,
    pub errors: Vec<ScanError>,
    /// Files read another way than their look suggested, with why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub threads: usize,
    /// Report documentation examples as info findings instead of only counting them.
    pub include_examples: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: 1,
            include_examples: false,
        }
    }
}

/// What one file gave.
#[derive(Default)]
struct FileResult {
    findings: Vec<ScanFinding>,
    summary: ScanSummary,
    error: Option<ScanError>,
    /// Said on stderr, not an error: the file was read another way.
    note: Option<String>,
}

/// Scans files and directories (recursively, in a stable order), in parallel over files.
pub fn scan_paths(paths: &[PathBuf], options: &ScanOptions, redactor: &Redactor) -> ScanReport {
    scan_paths_with(&Detectors::new(), paths, options, redactor)
}

/// [`scan_paths`] with detectors compiled once for many scans.
pub fn scan_paths_with(
    detectors: &Detectors,
    paths: &[PathBuf],
    options: &ScanOptions,
    redactor: &Redactor,
) -> ScanReport {
    let (inputs, source_errors) = source::expand(paths);
    // /var/log/containers/*.log are symlinks into /var/log/pods: each file is scanned once, under
    // the first name it was found by (the order is stable).
    let mut seen = std::collections::HashSet::new();
    let inputs: Vec<Input> = inputs
        .into_iter()
        .filter(|input| match input {
            Input::File(path) => {
                seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
            }
            Input::Stdin => true,
        })
        .collect();
    let threads = options.threads.clamp(1, inputs.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<FileResult>> = Vec::new();
    results.resize_with(inputs.len(), || None);
    let results = std::sync::Mutex::new(results);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let result = scan_input(detectors, input, options, redactor);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut report = ScanReport {
        findings: Vec::new(),
        summary: ScanSummary::default(),
        errors: source_errors.into_iter().map(ScanError::from).collect(),
        notes: Vec::new(),
    };
    report.summary.errors = report.errors.len() as u64;
    for result in results.into_iter().flatten() {
        let s = &result.summary;
        let total = &mut report.summary;
        total.files += s.files;
        total.bytes += s.bytes;
        total.lines += s.lines;
        total.objects += s.objects;
        total.examples += s.examples;
        total.long_lines += s.long_lines;
        total.malformed_lines += s.malformed_lines;
        total.unparsed_dumps += s.unparsed_dumps;
        for finding in &result.findings {
            if !finding.example {
                total.findings += 1;
                *total.by_kind.entry(finding.kind.clone()).or_default() += 1;
            }
        }
        report.findings.extend(result.findings);
        report.notes.extend(result.note);
        if let Some(e) = result.error {
            report.summary.errors += 1;
            report.errors.push(e);
        }
    }
    report
}

/// Scans one input: an object dump when its content says so, else a log.
fn scan_input(
    detectors: &Detectors,
    input: &Input,
    options: &ScanOptions,
    redactor: &Redactor,
) -> FileResult {
    let name = input.display_name();
    let mut result = FileResult::default();
    let (mut reader, _) = match source::open(input) {
        Ok(r) => r,
        Err(e) => {
            result.error = Some(e.into());
            return result;
        }
    };
    result.summary.files = 1;
    let location = match input {
        Input::File(path) => location::from_path(path),
        Input::Stdin => Location::default(),
    };
    let mut collector = Collector::new(&name, &location, options, redactor);
    // Look at the head to tell an object dump from a log.
    let mut head = Vec::with_capacity(objects::SNIFF);
    if let Err(e) = (&mut reader)
        .take(objects::SNIFF as u64)
        .read_to_end(&mut head)
    {
        // A file that fails this early (a truncated gzip): what was read is still scanned.
        let mut result = scan_as_log(
            detectors,
            &name,
            std::io::Cursor::new(head),
            collector,
            result,
        );
        result.error = Some(read_error(&name, &e));
        return result;
    }
    let reader = std::io::Cursor::new(head.clone()).chain(reader);
    if objects::looks_like_dump(&head) {
        let mut text = Vec::new();
        let mut limited = reader.take(objects::MAX_DUMP as u64 + 1);
        if let Err(e) = limited.read_to_end(&mut text) {
            let mut result = scan_as_log(
                detectors,
                &name,
                std::io::Cursor::new(text),
                collector,
                result,
            );
            result.error = Some(read_error(&name, &e));
            return result;
        }
        let rest = limited.into_inner();
        let walked = if text.len() <= objects::MAX_DUMP {
            objects::scan_dump(detectors, &text).map_err(|e| e.to_string())
        } else {
            Err(format!("larger than {} MiB", objects::MAX_DUMP >> 20))
        };
        match walked {
            Ok(walked) => {
                result.summary.bytes = text.len() as u64;
                result.summary.lines = memchr::memchr_iter(b'\n', &text).count() as u64;
                result.summary.objects = walked.objects;
                for hit in walked.hits {
                    collector.add_object_hit(hit);
                }
                (result.findings, result.summary.examples) = collector.finish();
                return result;
            }
            Err(why) => {
                result.summary.unparsed_dumps = 1;
                result.note = Some(format!(
                    "{name}: looks like a Kubernetes object dump but is not one ({why}); scanned as text"
                ));
            }
        }
        // Not parseable as objects after all (or too big to hold): scan it all as text.
        return scan_as_log(
            detectors,
            &name,
            std::io::Cursor::new(text).chain(rest),
            collector,
            result,
        );
    }
    scan_as_log(detectors, &name, reader, collector, result)
}

fn read_error(name: &str, e: &std::io::Error) -> ScanError {
    ScanError::Read {
        path: name.to_owned(),
        message: format!("read failed: {e}"),
    }
}

fn scan_as_log<R: Read>(
    detectors: &Detectors,
    name: &str,
    reader: R,
    mut collector: Collector<'_>,
    mut result: FileResult,
) -> FileResult {
    let (stats, failure) = logfile::scan_log(detectors, reader, |hit| collector.add_line_hit(hit));
    result.summary.bytes = stats.bytes;
    result.summary.lines = stats.lines;
    result.summary.long_lines = stats.long_lines;
    result.summary.malformed_lines = stats.malformed;
    if let Some(e) = failure {
        result.error = Some(read_error(name, &e));
    }
    (result.findings, result.summary.examples) = collector.finish();
    result
}

/// Gathers one file's detections into findings, one per distinct credential (kind and
/// fingerprint), counting repeats.
struct Collector<'a> {
    file: &'a str,
    location: &'a Location,
    options: &'a ScanOptions,
    redactor: &'a Redactor,
    findings: Vec<ScanFinding>,
    /// (kind, fingerprint, object, field) → index of the finding.
    seen: HashMap<(&'static str, String, String, String), usize>,
    examples: u64,
}

impl<'a> Collector<'a> {
    fn new(
        file: &'a str,
        location: &'a Location,
        options: &'a ScanOptions,
        redactor: &'a Redactor,
    ) -> Self {
        Collector {
            file,
            location,
            options,
            redactor,
            findings: Vec::new(),
            seen: HashMap::new(),
            examples: 0,
        }
    }

    fn add_line_hit(&mut self, hit: logfile::LineHit) {
        let location = self.location.clone();
        self.add(
            hit.detection,
            hit.line,
            location,
            None,
            None,
            hit.stream,
            hit.time,
        );
    }

    fn add_object_hit(&mut self, hit: objects::ObjectHit) {
        self.add(
            hit.detection,
            hit.line,
            hit.location,
            Some(hit.object),
            Some(hit.field),
            None,
            None,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        detection: Detection,
        line: u64,
        location: Location,
        object: Option<String>,
        field: Option<String>,
        stream: Option<String>,
        time: Option<String>,
    ) {
        if detection.example {
            self.examples += 1;
            if !self.options.include_examples {
                return;
            }
        }
        let fingerprint = self.redactor.fingerprint(&detection.value);
        // In a dump, the same value in two objects or fields is two findings.
        let key = (
            detection.kind,
            fingerprint.clone(),
            object.clone().unwrap_or_default(),
            field.clone().unwrap_or_default(),
        );
        if let Some(&i) = self.seen.get(&key) {
            let f = &mut self.findings[i];
            f.occurrences += 1;
            f.last_line = Some(line);
            return;
        }
        let details: serde_json::Map<String, serde_json::Value> = detection
            .details
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        self.seen.insert(key, self.findings.len());
        self.findings.push(ScanFinding {
            kind: detection.kind.to_owned(),
            severity: if detection.example {
                Severity::Info
            } else {
                detection.severity
            },
            confidence: detection.confidence,
            message: if detection.example {
                format!(
                    "{} (a documentation example, not a live credential)",
                    detection.reason
                )
            } else {
                detection.reason
            },
            evidence: format!("{}:{line}", self.file),
            file: self.file.to_owned(),
            line,
            namespace: location.namespace,
            pod: location.pod,
            container: location.container,
            container_id: location.container_id,
            object,
            field,
            stream,
            log_time: time,
            length: detection.value.chars().count(),
            fingerprint,
            occurrences: 1,
            last_line: None,
            details,
            example: detection.example,
        });
    }

    fn finish(self) -> (Vec<ScanFinding>, u64) {
        let mut findings = self.findings;
        for f in &mut findings {
            if f.occurrences == 1 {
                f.last_line = None;
            }
        }
        (findings, self.examples)
    }
}

/// Writes a scan's findings.
pub fn write_report<W: Write>(
    out: &mut W,
    format: ReportFormat,
    report: &ScanReport,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Json => crate::findings::write_json(out, &report.findings, &report.summary),
        ReportFormat::Jsonl => crate::findings::write_jsonl(out, &report.findings),
        ReportFormat::Table => write_table(out, &report.findings),
    }
}

fn write_table<W: Write>(out: &mut W, findings: &[ScanFinding]) -> std::io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "no credentials found");
    }
    writeln!(
        out,
        "{:<8} {:<33} {:<40} {:>5} {:<8} {:>5}  WHAT",
        "SEVERITY", "TYPE", "WHERE", "LEN", "FP", "SEEN"
    )?;
    for f in findings {
        let place = match (&f.namespace, &f.pod, &f.container, &f.object) {
            (_, _, _, Some(object)) => format!(
                "{object}{}",
                f.container
                    .as_deref()
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default()
            ),
            (Some(ns), Some(pod), Some(c), None) => format!("{ns}/{pod}/{c}"),
            _ => f.evidence.clone(),
        };
        writeln!(
            out,
            "{:<8} {:<33} {:<40} {:>5} {:<8} {:>5}  {} ({})",
            f.severity.as_str(),
            f.kind,
            // Names and messages come from the logs: no terminal control characters.
            crate::text::printable(&place),
            f.length,
            f.fingerprint,
            f.occurrences,
            crate::text::printable(&f.message),
            crate::text::printable(&f.evidence),
        )?;
    }
    Ok(())
}
