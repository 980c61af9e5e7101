//! Alert outputs: JSON lines (the contract), a table for people, CSV for spreadsheets.

use crate::alert::Alert;
use crate::alert_store::Alerts;
use crate::text::printable;
use std::io::{self, Write};
use std::sync::mpsc;

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

/// JSON lines handed from the merging thread to the writing one at a time.
const BLOCK: usize = 1 << 20;

/// Writes a hunt's alerts in their order. With `helper_thread`, JSON lines are merged on a
/// second thread while this one writes: the end of a hunt is the one part that cannot be spread
/// over cores, and on two it then costs the longer of the merge and the write, not their sum.
pub fn write_alerts<W: Write>(
    out: &mut W,
    format: AlertFormat,
    alerts: Alerts,
    helper_thread: bool,
) -> io::Result<()> {
    match format {
        AlertFormat::Jsonl if helper_thread => write_jsonl_pipelined(out, alerts)?,
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

fn write_jsonl_pipelined<W: Write>(out: &mut W, alerts: Alerts) -> io::Result<()> {
    let (full, filled) = mpsc::sync_channel::<Vec<u8>>(4);
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let merger = scope.spawn(move || {
            let mut block = Vec::with_capacity(BLOCK + (64 << 10));
            let stopped = || io::Error::other("the alert writer stopped");
            alerts.try_for_each_line(|line| {
                block.extend_from_slice(line);
                block.push(b'\n');
                if block.len() >= BLOCK {
                    let next = recycled
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(BLOCK + (64 << 10)));
                    full.send(std::mem::replace(&mut block, next))
                        .map_err(|_| stopped())?;
                }
                Ok(())
            })?;
            if !block.is_empty() {
                full.send(block).map_err(|_| stopped())?;
            }
            Ok(())
        });
        let mut written = Ok(());
        while let Ok(mut block) = filled.recv() {
            written = out.write_all(&block);
            if written.is_err() {
                break;
            }
            block.clear();
            let _ = recycle.send(block);
        }
        // A failed write stops the merger (its next send fails); the write's error is the one
        // to report.
        drop(filled);
        let merged = merger
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written.and(merged)
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert_store::AlertStore;
    use crate::engine::SortKey;

    /// Two handlers' alerts, interleaved in time, enough to spill several runs (64 KiB budget)
    /// and to fill several of the pipeline's blocks.
    fn alerts() -> Alerts {
        let stores = (0..2u32)
            .map(|handler| {
                let mut store = AlertStore::new(0);
                for n in 0..2_500u32 {
                    let line = u64::from(n * 2 + handler);
                    let key = SortKey {
                        time: i128::from((n * 7919) % 1000),
                        input: 0,
                        line,
                        item: 0,
                        rule: 0,
                    };
                    store.push_item(
                        key,
                        &serde_json::json!({"line": line, "pad": "x".repeat(900)}),
                    );
                }
                store
            })
            .collect();
        Alerts::new(stores)
    }

    #[test]
    fn merging_on_a_helper_thread_writes_the_same_bytes() {
        let mut alone = Vec::new();
        write_alerts(&mut alone, AlertFormat::Jsonl, alerts(), false).expect("writes");
        let mut pipelined = Vec::new();
        write_alerts(&mut pipelined, AlertFormat::Jsonl, alerts(), true).expect("writes");
        assert_eq!(alone.len(), pipelined.len());
        assert!(alone == pipelined, "pipelined output differs");
        assert_eq!(alone.iter().filter(|&&b| b == b'\n').count(), 5_000);
        assert!(alone.len() > 3 * BLOCK, "the test must cross blocks");
    }

    /// A reader that goes away (`hunt … | head`) stops the merge instead of leaving it blocked.
    #[test]
    fn a_failed_write_stops_the_helper_and_is_reported() {
        struct Closed(usize);
        impl Write for Closed {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 >= BLOCK {
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        for helper_thread in [false, true] {
            let error = write_alerts(&mut Closed(0), AlertFormat::Jsonl, alerts(), helper_thread)
                .expect_err("the write fails");
            assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{helper_thread}");
        }
    }
}
