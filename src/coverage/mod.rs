//! `credwatch coverage`: can we prove who accessed container APIs and what they got? The audit
//! policy as kube-apiserver evaluates it ([`policy`]) tried against every way to reach a
//! credential ([`probes`]); findings on what it misses, what it leaks and what it does not say
//! as meant ([`analysis`]); kube-apiserver's audit flags ([`flags`]).

pub mod analysis;
pub mod flags;
pub mod logs;
pub mod policy;
pub mod probes;

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::findings::{ReportFormat, Severity};
use analysis::{PolicyFinding, ProbeRow, Score};

#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error("{path}: {source}")]
    Read { path: String, source: io::Error },
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error("--apiserver: {0}")]
    Flags(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub policy: String,
    pub api_version: String,
    pub rules: usize,
    pub probes: usize,
    pub findings: usize,
    pub by_severity: BTreeMap<&'static str, usize>,
    pub scores: Vec<Score>,
}

pub struct PolicyReport {
    pub rows: Vec<ProbeRow>,
    pub findings: Vec<PolicyFinding>,
    pub summary: PolicySummary,
}

/// Analyses a policy file, with kube-apiserver's flags when given.
pub fn policy_report(
    path: &str,
    apiserver: Option<&str>,
    event_rate: Option<f64>,
) -> Result<PolicyReport, CoverageError> {
    let text = std::fs::read_to_string(path).map_err(|source| CoverageError::Read {
        path: path.to_owned(),
        source,
    })?;
    let policy = policy::Policy::parse(path, &text)?;
    let mut analysis = analysis::analyse(path, &policy);
    let flags = apiserver
        .map(flags::load)
        .transpose()
        .map_err(CoverageError::Flags)?;
    if let Some(flags) = &flags {
        analysis.findings.extend(flags.findings(event_rate));
        analysis
            .findings
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    }
    let scores = analysis::scores(
        &analysis.rows,
        flags.as_ref().and_then(|f| f.retention_days()),
        flags.is_some(),
    );
    let mut by_severity = BTreeMap::new();
    for f in &analysis.findings {
        *by_severity.entry(f.severity.as_str()).or_default() += 1;
    }
    Ok(PolicyReport {
        summary: PolicySummary {
            policy: path.to_owned(),
            api_version: policy.api_version.clone(),
            rules: policy.rules.len(),
            probes: analysis.rows.len(),
            findings: analysis.findings.len(),
            by_severity,
            scores,
        },
        rows: analysis.rows,
        findings: analysis.findings,
    })
}

pub fn write_policy_report<W: Write + ?Sized>(
    out: &mut W,
    format: ReportFormat,
    report: &PolicyReport,
) -> io::Result<()> {
    match format {
        ReportFormat::Jsonl => crate::findings::write_jsonl(out, &report.findings),
        ReportFormat::Json => crate::findings::write_json_with(
            out,
            &report.findings,
            &report.summary,
            ("probes", &report.rows),
        ),
        ReportFormat::Table => write_table(out, report),
    }
}

fn write_table<W: Write + ?Sized>(out: &mut W, report: &PolicyReport) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "audit policy {} ({}, {} rules)",
        s.policy, s.api_version, s.rules
    )?;
    writeln!(out)?;
    writeln!(out, "{:<70} {:<16} {:<5} STAGES", "PROBE", "LEVEL", "RULE")?;
    for row in &report.rows {
        let d = &row.decision;
        writeln!(
            out,
            "{}{:<69} {:<16} {:<5} {}",
            if row.relevant { "*" } else { " " },
            row.description,
            d.level.as_str(),
            d.rule.map_or("-".to_owned(), |r| r.to_string()),
            if d.stages.is_empty() {
                "-".to_owned()
            } else {
                d.stages.join(",")
            }
        )?;
    }
    writeln!(
        out,
        "(* credential-relevant; RULE is the 0-based index of the rule that decided)"
    )?;
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "no findings")?;
    }
    for f in &report.findings {
        writeln!(
            out,
            "{:<8} {:<20} {}{}\n         at {}; fix: {}",
            f.severity.as_str(),
            f.kind,
            f.message,
            f.cis
                .as_deref()
                .map(|c| format!(" [CIS {c}]"))
                .unwrap_or_default(),
            f.evidence,
            f.fix
        )?;
    }
    writeln!(out)?;
    for score in &s.scores {
        writeln!(
            out,
            "{:<10} {:>4}  {}",
            score.question,
            score.score.map_or("n/a".to_owned(), |v| format!("{v}")),
            score.basis
        )?;
    }
    Ok(())
}

/// The worst severity among the findings, for `--fail-on`.
pub fn worst(findings: &[PolicyFinding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

#[derive(Debug, Clone, Serialize)]
pub struct LogsSummary {
    pub records_read: u64,
    pub events: u64,
    pub rejected: u64,
    pub sources: usize,
    pub findings: usize,
    pub by_severity: BTreeMap<&'static str, usize>,
}

pub fn write_logs_report<W: Write + ?Sized>(
    out: &mut W,
    format: ReportFormat,
    report: &logs::LogsReport,
) -> io::Result<()> {
    let mut by_severity = BTreeMap::new();
    for f in &report.findings {
        *by_severity.entry(f.severity.as_str()).or_default() += 1;
    }
    let summary = LogsSummary {
        records_read: report.ingest.records,
        events: report.ingest.events,
        rejected: report.ingest.rejected,
        sources: report.sources.len(),
        findings: report.findings.len(),
        by_severity,
    };
    match format {
        ReportFormat::Jsonl => crate::findings::write_jsonl(out, &report.findings),
        ReportFormat::Json => crate::findings::write_json_with(
            out,
            &report.findings,
            &summary,
            ("sources", &report.sources),
        ),
        ReportFormat::Table => {
            for s in &report.sources {
                writeln!(
                    out,
                    "cluster {} ({}): {} events, {} to {} ({:.1} days{}), {} gaps",
                    s.cluster,
                    s.format,
                    s.events,
                    s.first.as_deref().unwrap_or("?"),
                    s.last.as_deref().unwrap_or("?"),
                    s.span_days,
                    s.events_per_day
                        .map(|d| format!(", {d:.0} events/day"))
                        .unwrap_or_default(),
                    s.gaps.len()
                )?;
                let fields: Vec<String> = s
                    .completeness
                    .iter()
                    .map(|(k, v)| format!("{k} {:.1}%", v * 100.0))
                    .collect();
                writeln!(out, "  fields: {}", fields.join(", "))?;
                let a = &s.activity;
                writeln!(
                    out,
                    "  credential access seen: {} Secret reads, {} writes, {} TokenRequests, {} TokenReviews, {} exec/attach, {} log reads, {} nodes/proxy",
                    a.secret_reads,
                    a.secret_writes,
                    a.token_requests,
                    a.token_reviews,
                    a.exec_attach,
                    a.pod_logs,
                    a.node_proxy
                )?;
                let levels: Vec<String> = s
                    .levels
                    .iter()
                    .map(|l| format!("{} at {}: {}", l.resource, l.level, l.events))
                    .collect();
                if !levels.is_empty() {
                    writeln!(out, "  levels: {}", levels.join("; "))?;
                }
                let scores: Vec<String> = s
                    .scores
                    .iter()
                    .map(|sc| {
                        format!(
                            "{} {}",
                            sc.question,
                            sc.score.map_or("n/a".to_owned(), |v| v.to_string())
                        )
                    })
                    .collect();
                writeln!(out, "  scores: {}", scores.join(", "))?;
            }
            writeln!(out)?;
            for f in &report.findings {
                writeln!(
                    out,
                    "{:<8} {:<18} {}\n         fix: {}",
                    f.severity.as_str(),
                    f.kind,
                    crate::text::printable(&f.message),
                    f.fix
                )?;
            }
            Ok(())
        }
    }
}
