//! `credwatch simulate`: a deterministic generator of the audit log of a busy cluster, with
//! attack scenarios mixed in, in any input format credwatch reads.
//!
//! The background ([`background`]) is benign traffic of a 21-node cluster starting at
//! 2026-03-02T09:00:00Z, about 5 ms apart (a million events span about 83 minutes). Each
//! scenario ([`scenarios`]) is a short script of requests placed at an even point of that span
//! (one after the other just after the start when the background is short), and merged into the
//! background by time. The same options always give the same bytes; the background does not
//! depend on which scenarios are mixed in.
//!
//! Events are written by hand into a reused buffer (no JSON value trees), so a million events
//! take a few seconds.

mod background;
mod formats;
mod model;
mod scenarios;
#[cfg(test)]
mod tests;

use model::{Ev, Micros};
use std::io::{BufWriter, Write};

/// The output format: the native log line or one of the envelopes around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum SimFormat {
    /// One Event JSON per line, as kube-apiserver's log backend writes it.
    Native,
    /// `EventList` batches of up to 100 events, one per line, as the webhook backend posts them.
    #[value(name = "eventlist")]
    EventList,
    /// CloudWatch Logs subscription `DATA_MESSAGE`s (EKS), up to 100 log events each.
    Eks,
    /// Cloud Logging `LogEntry` with an AuditLog `protoPayload` (GKE), one per line. GKE's
    /// mapping loses `requestURI` (exec commands, kubelet paths), groups, uid, `user.extra`,
    /// the impersonated user, and the difference between 200, 201 and 101.
    Gke,
    /// Azure diagnostic `records` batches of category kube-audit (AKS), up to 100 each.
    Aks,
}

impl SimFormat {
    pub const ALL: [SimFormat; 5] = [
        SimFormat::Native,
        SimFormat::EventList,
        SimFormat::Eks,
        SimFormat::Gke,
        SimFormat::Aks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SimFormat::Native => "native",
            SimFormat::EventList => "eventlist",
            SimFormat::Eks => "eks",
            SimFormat::Gke => "gke",
            SimFormat::Aks => "aks",
        }
    }
}

/// One attack scenario: what it does, what it is modelled on, and what should be found.
#[derive(Debug)]
pub struct ScenarioInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// The public technique, tool or test it reproduces (Stratus Red Team, Peirates, Atomic
    /// Red Team T1552.007, the Microsoft Threat Matrix for Kubernetes, …).
    pub modelled_on: &'static str,
    /// The `name`s of the rules expected to alert on its events; the first is the main alert.
    pub expect: &'static [&'static str],
    /// The exposure verdict expected of its main alert: `exposed`, `attempted` or `possible`.
    pub exposure: &'static str,
    /// Writes the scenario's events at offsets from its start.
    pub(crate) build: fn(&mut scenarios::Script),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    /// The scenarios to mix in, in the order they are placed in time.
    pub scenarios: Vec<&'static ScenarioInfo>,
    /// Benign background events.
    pub background: u64,
    pub seed: u64,
    pub format: SimFormat,
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Events written (background and scenarios).
    pub events: u64,
    /// Of those, events of the scenarios.
    pub scenario_events: u64,
    /// Bytes written.
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("writing simulated events: {0}")]
    Io(#[from] std::io::Error),
}

/// Every scenario, in their default order.
pub fn scenarios() -> &'static [ScenarioInfo] {
    scenarios::SCENARIOS
}

/// The scenario of this name.
pub fn find(name: &str) -> Option<&'static ScenarioInfo> {
    scenarios::SCENARIOS.iter().find(|s| s.name == name)
}

/// When the background starts: 2026-03-02T09:00:00Z.
pub(crate) const START: Micros =
    model::days_from_civil(2026, 3, 2) * 86_400_000_000 + 9 * 3_600_000_000;
/// Mean time between background events.
pub(crate) const STEP_MEAN: Micros = 5_000;
/// Scenarios start at least this long after the previous one ended.
const GAP: Micros = 30_000_000;

/// Writes the simulated log to `out`.
pub fn write(opts: &SimulateOptions, out: &mut dyn Write) -> Result<SimStats, SimulateError> {
    let planned = plan(&opts.scenarios, opts.background, opts.seed);
    let mut writer = formats::Writer::new(
        BufWriter::with_capacity(1 << 20, out),
        opts.format,
        opts.seed,
    );
    let mut pending = planned.iter().peekable();
    let mut background = background::Background::new(opts.seed);
    for _ in 0..opts.background {
        let ev = background.next_event();
        while let Some(s) = pending.next_if(|s| s.received <= ev.received) {
            writer.push(s)?;
        }
        writer.push(&ev)?;
    }
    for s in pending {
        writer.push(s)?;
    }
    let bytes = writer.finish()?;
    let scenario_events = planned.len() as u64;
    Ok(SimStats {
        events: opts.background + scenario_events,
        scenario_events,
        bytes,
    })
}

/// The audit IDs of `scenario`'s events for `seed`, as the log writes them. A scenario's
/// randomness follows from its name and the seed alone, so they are the same whatever the
/// background or format it is written with.
pub fn scenario_audit_ids(scenario: &'static ScenarioInfo, seed: u64) -> Vec<String> {
    plan(&[scenario], 0, seed)
        .iter()
        .map(|ev| model::uuid(ev.audit_id))
        .collect()
}

/// The scenarios' events at their places in time, in time order. Scenario `i` of `k` starts
/// at `i+1`/`k+1` of the background's span, but never before the previous one ended plus a
/// gap, so scenarios never overlap.
fn plan(list: &[&'static ScenarioInfo], background: u64, seed: u64) -> Vec<Ev> {
    let span = i64::try_from(background)
        .unwrap_or(i64::MAX)
        .saturating_mul(STEP_MEAN);
    let k = list.len() as i64;
    let mut out = Vec::new();
    let mut next_free = START + 1_000_000;
    for (i, info) in list.iter().enumerate() {
        let occurrence = list[..i].iter().filter(|o| o.name == info.name).count() as u64;
        let mut script = scenarios::Script::new(seed, info.name, occurrence);
        (info.build)(&mut script);
        let even = START.saturating_add(span / (k + 1) * (i as i64 + 1));
        let start = even.max(next_free);
        let end = script.events.iter().map(|e| e.received).max().unwrap_or(0);
        next_free = start + end + GAP;
        out.extend(script.events.into_iter().map(|mut ev| {
            ev.received += start;
            ev.staged += start;
            ev
        }));
    }
    // Stable: the two stages of one request keep their order.
    out.sort_by_key(|e| e.received);
    out
}
