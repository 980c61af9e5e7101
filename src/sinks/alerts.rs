//! Alert outputs: JSON lines (the contract), a table for people, CSV for spreadsheets.

use crate::alert::Alert;
use crate::alert_store::Alerts;
use crate::text::printable;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    Jsonl,
    Table,
    Csv,
}

const CSV_HEADER: &[&str] = &[
    "time",
    "level",
    "rule_id",
    "rule_title",
    "platform",
    "cluster",
    "actor",
    "actor_kind",
    "impersonated_by",
    "source_ips",
    "user_agent",
    "verb",
    "resource",
    "subresource",
    "namespace",
    "name",
    "uri",
    "code",
    "decision",
    "exposure",
    "exposure_reason",
    "count",
    "evidence",
];

/// Writes a hunt's alerts in their order.
pub fn write_alerts<W: Write>(out: &mut W, format: AlertFormat, alerts: Alerts) -> io::Result<()> {
    match format {
        AlertFormat::Jsonl => alerts.try_for_each_line(|line| {
            out.write_all(line)?;
            out.write_all(b"\n")
        })?,
        AlertFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER)?;
            alerts.try_for_each_line(|line| {
                let a = parse(line)?;
                w.write_record(csv_row(&a))?;
                Ok(())
            })?;
            w.flush()?;
        }
        AlertFormat::Table => {
            writeln!(
                out,
                "{:<27} {:<8} {:<40} {:<34} {:<6} {:<40} {:<5} {:<9} WHERE",
                "TIME", "LEVEL", "RULE", "ACTOR", "VERB", "TARGET", "CODE", "EXPOSURE"
            )?;
            alerts.try_for_each_line(|line| {
                let a = parse(line)?;
                let target = format!(
                    "{}{}{}",
                    a.target
                        .namespace
                        .as_deref()
                        .map(|n| format!("{n}/"))
                        .unwrap_or_default(),
                    a.target.resource.as_deref().unwrap_or("-"),
                    match (&a.target.subresource, &a.target.name) {
                        (Some(s), Some(n)) => format!("/{n}/{s}"),
                        (None, Some(n)) => format!("/{n}"),
                        (Some(s), None) => format!("/{s}"),
                        (None, None) => String::new(),
                    }
                );
                let count = if a.count > 1 {
                    format!(" ×{}", a.count)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "{:<27} {:<8} {:<40} {:<34} {:<6} {:<40} {:<5} {:<9} {}{}",
                    a.time.as_deref().unwrap_or("-"),
                    a.rule.level,
                    clip(&a.rule.title, 40),
                    clip(a.actor.username.as_deref().unwrap_or("-"), 34),
                    clip(a.target.verb.as_deref().unwrap_or("-"), 6),
                    clip(&target, 40),
                    a.outcome
                        .code
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "-".into()),
                    a.exposure.verdict,
                    a.evidence
                        .last()
                        .map(|e| e.location.as_str())
                        .unwrap_or("-"),
                    count,
                )
            })?;
        }
    }
    Ok(())
}

fn parse(line: &[u8]) -> io::Result<Alert> {
    serde_json::from_slice(line).map_err(|e| io::Error::other(format!("alert JSON: {e}")))
}

fn clip(text: &str, width: usize) -> String {
    let text = printable(text);
    if text.chars().count() <= width {
        text
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push('…');
        s
    }
}

fn csv_row(a: &Alert) -> Vec<String> {
    let o = |s: &Option<String>| s.clone().unwrap_or_default();
    vec![
        o(&a.time),
        a.rule.level.clone(),
        a.rule.id.clone(),
        a.rule.title.clone(),
        a.platform.clone(),
        o(&a.cluster),
        o(&a.actor.username),
        a.actor.kind.clone(),
        o(&a.actor.impersonated_by),
        a.source.ips.join(" "),
        o(&a.source.user_agent),
        o(&a.target.verb),
        o(&a.target.resource),
        o(&a.target.subresource),
        o(&a.target.namespace),
        o(&a.target.name),
        o(&a.target.uri),
        a.outcome.code.map(|c| c.to_string()).unwrap_or_default(),
        o(&a.outcome.decision),
        a.exposure.verdict.clone(),
        a.exposure.reason.clone(),
        a.count.to_string(),
        a.evidence
            .iter()
            .map(|e| e.location.clone())
            .collect::<Vec<_>>()
            .join(" "),
    ]
}
