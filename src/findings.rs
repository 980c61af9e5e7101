//! The findings contract (DESIGN.md) shared by the reports that are not alerts — `scan` now,
//! `coverage` and `inventory` later: a severity scale, and one writer for `--format json`
//! (`{"findings": […], "summary": {…}}`) and `--format jsonl` (one finding per line).

use serde::Serialize;
use std::io::{self, Write};

/// Severity on the findings scale (DESIGN.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// How a report is written: a table for people, one JSON document, or one finding per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Jsonl,
}

/// Writes findings as one JSON document with the summary.
pub fn write_json<W: Write + ?Sized, F: Serialize, S: Serialize>(
    out: &mut W,
    findings: &[F],
    summary: &S,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Document<'a, F, S> {
        findings: &'a [F],
        summary: &'a S,
    }
    serde_json::to_writer_pretty(&mut *out, &Document { findings, summary })?;
    writeln!(out)
}

/// Writes findings as one JSON document with the summary and one more section (`probes`,
/// `sources`: what the report looked at).
pub fn write_json_with<W: Write + ?Sized, F: Serialize, S: Serialize, X: Serialize>(
    out: &mut W,
    findings: &[F],
    summary: &S,
    section: (&str, &X),
) -> io::Result<()> {
    let to_value = |v: serde_json::Result<serde_json::Value>| v.map_err(io::Error::other);
    let mut document = serde_json::Map::new();
    document.insert(
        "findings".to_owned(),
        to_value(serde_json::to_value(findings))?,
    );
    document.insert(
        "summary".to_owned(),
        to_value(serde_json::to_value(summary))?,
    );
    document.insert(
        section.0.to_owned(),
        to_value(serde_json::to_value(section.1))?,
    );
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// Writes findings one JSON object per line.
pub fn write_jsonl<W: Write + ?Sized, F: Serialize>(out: &mut W, findings: &[F]) -> io::Result<()> {
    for finding in findings {
        serde_json::to_writer(&mut *out, finding)?;
        writeln!(out)?;
    }
    Ok(())
}
