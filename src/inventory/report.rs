//! How inventory reports are written: a table for people, one JSON document (findings, platform
//! findings in their own section, summary), or one finding per line.

use std::io::{self, Write};

use serde::Serialize;

use super::assess::{InventoryFinding, RbacReport};
use super::rbac::{Answer, Request, Scope};
use crate::findings::ReportFormat;
use crate::text::printable;

pub fn write_rbac<W: Write + ?Sized>(
    out: &mut W,
    format: ReportFormat,
    report: &RbacReport,
) -> io::Result<()> {
    let (platform, findings): (Vec<&InventoryFinding>, Vec<&InventoryFinding>) =
        report.findings.iter().partition(|f| f.platform);
    match format {
        ReportFormat::Jsonl => crate::findings::write_jsonl(out, &report.findings),
        ReportFormat::Json => {
            #[derive(Serialize)]
            struct Document<'a> {
                findings: &'a [&'a InventoryFinding],
                platform_findings: &'a [&'a InventoryFinding],
                service_accounts: &'a [super::assess::ServiceAccountReach],
                platform_identities: &'a [super::assess::PlatformIdentity],
                summary: &'a super::assess::RbacSummary,
            }
            serde_json::to_writer_pretty(
                &mut *out,
                &Document {
                    findings: &findings,
                    platform_findings: &platform,
                    service_accounts: &report.service_accounts,
                    platform_identities: &report.platform_identities,
                    summary: &report.summary,
                },
            )?;
            writeln!(out)
        }
        ReportFormat::Table => {
            let s = &report.summary;
            writeln!(
                out,
                "{} objects from {} file(s): {} roles, {} bindings, {} subjects",
                s.objects, s.files, s.roles, s.bindings, s.subjects
            )?;
            writeln!(out)?;
            finding_table(out, &findings)?;
            let dangerous: Vec<_> = report
                .service_accounts
                .iter()
                .filter(|sa| !sa.platform && sa.severity >= Some(crate::findings::Severity::Medium))
                .collect();
            if !dangerous.is_empty() {
                writeln!(out)?;
                writeln!(
                    out,
                    "service accounts with dangerous permissions, where their tokens are mounted:"
                )?;
                writeln!(
                    out,
                    "{:<8} {:<50} {:<30} PODS",
                    "SEVERITY", "SERVICE ACCOUNT", "NODES"
                )?;
                for sa in dangerous {
                    writeln!(
                        out,
                        "{:<8} {:<50} {:<30} {}",
                        sa.severity.map_or("-", |s| s.as_str()),
                        printable(&sa.subject),
                        printable(&or_dash(&sa.nodes.join(","))),
                        printable(&or_dash(&sa.pods.join(",")))
                    )?;
                }
            }
            if !platform.is_empty() {
                writeln!(out)?;
                writeln!(
                    out,
                    "platform identities (control plane, default RBAC, add-ons) — expected, listed for completeness:"
                )?;
                finding_table(out, &platform)?;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{} findings ({}), {} platform findings",
                s.findings,
                count_by_kind(&s.by_kind),
                s.platform_findings
            )
        }
    }
}

/// `kind n, kind n` for a table's last line, or `none`.
fn count_by_kind(by_kind: &std::collections::BTreeMap<String, usize>) -> String {
    if by_kind.is_empty() {
        return "none".to_owned();
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    kinds.join(", ")
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

/// The findings table shared by the inventory reports.
pub fn finding_table<W: Write + ?Sized>(
    out: &mut W,
    findings: &[&InventoryFinding],
) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "no findings");
    }
    writeln!(
        out,
        "{:<8} {:<24} {:<48} {:<16} WHAT",
        "SEVERITY", "KIND", "SUBJECT", "WHERE"
    )?;
    for f in findings {
        writeln!(
            out,
            "{:<8} {:<24} {:<48} {:<16} {}",
            f.severity.as_str(),
            f.kind,
            printable(f.subject.as_deref().unwrap_or("-")),
            printable(f.namespace.as_deref().unwrap_or("cluster")),
            printable(&f.message)
        )?;
        for evidence in &f.evidence {
            writeln!(out, "{:<99}   via {}", "", printable(evidence))?;
        }
    }
    Ok(())
}

/// One subject in a who-can answer.
#[derive(Debug, Serialize)]
pub struct WhoCanRow<'a> {
    pub subject: String,
    /// A group that stands for many identities, said in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    pub scope: String,
    pub binding: &'a str,
    pub role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<&'a [String]>,
    pub evidence: &'a str,
}

fn group_note(subject: &str) -> Option<&'static str> {
    match subject {
        "Group:system:authenticated" => Some("every authenticated user"),
        "Group:system:unauthenticated" | "User:system:anonymous" => Some("anonymous requests"),
        "Group:system:serviceaccounts" => Some("every service account"),
        s if s.starts_with("Group:system:serviceaccounts:") => {
            Some("every service account of the namespace")
        }
        "Group:system:masters" => Some("bootstrap superusers"),
        _ => None,
    }
}

pub fn who_can_rows(answers: &[Answer]) -> Vec<WhoCanRow<'_>> {
    answers
        .iter()
        .map(|a| {
            let subject = a.subject.to_string();
            WhoCanRow {
                note: group_note(&subject),
                subject,
                scope: match &a.scope {
                    Scope::Cluster => "cluster".to_owned(),
                    Scope::Namespace(ns) => ns.clone(),
                },
                binding: &a.binding,
                role: &a.role,
                names: a.names.as_deref(),
                evidence: &a.evidence,
            }
        })
        .collect()
}

pub fn write_who_can<W: Write + ?Sized>(
    out: &mut W,
    format: ReportFormat,
    request: &Request,
    answers: &[Answer],
) -> io::Result<()> {
    let rows = who_can_rows(answers);
    match format {
        ReportFormat::Jsonl => {
            for row in &rows {
                serde_json::to_writer(&mut *out, row)?;
                writeln!(out)?;
            }
            Ok(())
        }
        ReportFormat::Json => {
            #[derive(Serialize)]
            struct Document<'a> {
                request: String,
                namespace: Option<&'a str>,
                subjects: &'a [WhoCanRow<'a>],
            }
            serde_json::to_writer_pretty(
                &mut *out,
                &Document {
                    request: request.describe(),
                    namespace: request.namespace.as_deref(),
                    subjects: &rows,
                },
            )?;
            writeln!(out)
        }
        ReportFormat::Table => {
            let place = match &request.namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "anywhere".to_owned(),
            };
            let what = request.describe();
            let (object, verb) = what.rsplit_once(' ').unwrap_or((&what, ""));
            writeln!(out, "who can {verb} {object} {place}:")?;
            if rows.is_empty() {
                return writeln!(out, "nobody (through RBAC)");
            }
            writeln!(
                out,
                "{:<52} {:<16} {:<56} ROLE",
                "SUBJECT", "WHERE", "BINDING"
            )?;
            for row in &rows {
                let subject = match row.note {
                    Some(note) => format!("{} ({note})", row.subject),
                    None => row.subject.clone(),
                };
                let names = row
                    .names
                    .map(|n| format!(" only {}", n.join(",")))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{:<52} {:<16} {:<56} {}{}",
                    printable(&subject),
                    printable(&row.scope),
                    printable(row.binding),
                    printable(row.role),
                    printable(&names)
                )?;
            }
            Ok(())
        }
    }
}

pub fn write_workloads<W: Write + ?Sized>(
    out: &mut W,
    format: ReportFormat,
    report: &super::workloads::WorkloadReport,
) -> io::Result<()> {
    match format {
        ReportFormat::Jsonl => crate::findings::write_jsonl(out, &report.findings),
        ReportFormat::Json => crate::findings::write_json(out, &report.findings, &report.summary),
        ReportFormat::Table => {
            if report.findings.is_empty() {
                writeln!(out, "no findings")?;
            } else {
                writeln!(
                    out,
                    "{:<8} {:<22} {:<48} {:<26} WHAT",
                    "SEVERITY", "KIND", "OBJECT", "CREDENTIAL"
                )?;
            }
            for f in &report.findings {
                let credential = match (&f.credential_type, f.length, &f.fingerprint) {
                    (Some(t), Some(len), Some(fp)) => format!("{t} {len}c {fp}"),
                    (Some(t), ..) => t.clone(),
                    _ => "-".to_owned(),
                };
                writeln!(
                    out,
                    "{:<8} {:<22} {:<48} {:<26} {} ({})",
                    f.severity.as_str(),
                    f.kind,
                    printable(&f.object),
                    printable(&credential),
                    printable(&f.message),
                    printable(&f.evidence)
                )?;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{} findings in {} objects ({})",
                report.summary.findings,
                report.summary.objects,
                count_by_kind(&report.summary.by_kind)
            )
        }
    }
}

pub fn write_docker<W: Write + ?Sized>(
    out: &mut W,
    format: ReportFormat,
    report: &super::docker::DockerReport,
) -> io::Result<()> {
    match format {
        ReportFormat::Jsonl => crate::findings::write_jsonl(out, &report.findings),
        ReportFormat::Json => crate::findings::write_json(out, &report.findings, &report.summary),
        ReportFormat::Table => {
            if report.findings.is_empty() {
                writeln!(out, "no findings")?;
            } else {
                writeln!(
                    out,
                    "{:<8} {:<22} {:<40} WHAT",
                    "SEVERITY", "KIND", "SUBJECT"
                )?;
            }
            for f in &report.findings {
                writeln!(
                    out,
                    "{:<8} {:<22} {:<40} {} ({})",
                    f.severity.as_str(),
                    f.kind,
                    printable(&f.subject),
                    printable(&f.message),
                    printable(&f.evidence)
                )?;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{} findings ({})",
                report.summary.findings,
                count_by_kind(&report.summary.by_kind)
            )
        }
    }
}
