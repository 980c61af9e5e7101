//! `credwatch validate`: every attack scenario of [`crate::simulate`], mixed into a busy
//! cluster's background, through the real pipeline (decoder, prefilter, rules, filters,
//! correlations); then the background alone, which must raise nothing of level high or above.

use crate::engine::{self, HuntOptions};
use crate::redact::Redactor;
use crate::rules::{Level, RuleSet};
use crate::simulate::{self, ScenarioInfo, SimFormat, SimulateOptions};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("simulating {what}: {source}")]
    Simulate {
        what: String,
        source: simulate::SimulateError,
    },
    #[error("temporary file for {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what}: {rejected} simulated records did not decode")]
    Rejected { what: String, rejected: u64 },
}

pub struct ValidateOptions {
    pub scenarios: Vec<&'static ScenarioInfo>,
    /// Benign events mixed around each scenario.
    pub background: u64,
    /// Benign events of the separate false-positive run (0 skips it).
    pub benign: u64,
    pub seed: u64,
    pub format: SimFormat,
    pub threads: usize,
}

/// One scenario's row of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub scenario: &'static str,
    /// Every expected rule alerted.
    pub detected: bool,
    pub expected: Vec<&'static str>,
    pub missing: Vec<&'static str>,
    /// The highest level among the expected rules' alerts.
    pub level: Option<String>,
    /// The verdict of the first expected rule's alert, and the one the scenario expects.
    pub exposure: Option<String>,
    pub expected_exposure: &'static str,
    /// Alerts resting on the scenario's own events, per rule name.
    pub alerts: BTreeMap<String, u64>,
}

impl ScenarioResult {
    pub fn passed(&self) -> bool {
        self.detected && self.exposure.as_deref() == Some(self.expected_exposure)
    }
}

/// The benign run: alerts per (level, rule) at level high or above.
#[derive(Debug, Clone, Serialize)]
pub struct BenignResult {
    pub events: u64,
    pub alerts: u64,
    pub high_or_above: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenarios: Vec<ScenarioResult>,
    pub benign: Option<BenignResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.scenarios.iter().all(ScenarioResult::passed)
            && self
                .benign
                .as_ref()
                .is_none_or(|b| b.high_or_above.is_empty())
    }
}

/// One alert of a hunt: rule name (or id), level, exposure verdict, and its events' audit IDs.
struct Found {
    rule: String,
    level: String,
    verdict: String,
    audit_ids: Vec<String>,
}

/// A hunt's alerts, parsed.
fn hunt_file(
    path: &Path,
    what: &str,
    rules: &RuleSet,
    threads: usize,
) -> Result<Vec<Found>, ValidateError> {
    let options = HuntOptions {
        threads,
        ..HuntOptions::default()
    };
    let io = |source| ValidateError::Io {
        what: what.to_owned(),
        source,
    };
    let run = engine::hunt_collect(
        &[path.to_path_buf()],
        rules,
        &options,
        &Redactor::with_key([0x5a; 32]),
    )
    .map_err(io)?;
    if run.outcome.summary.rejected > 0 {
        return Err(ValidateError::Rejected {
            what: what.to_owned(),
            rejected: run.outcome.summary.rejected,
        });
    }
    let out = run
        .alerts
        .into_iter()
        .map(|a| Found {
            rule: a.rule.name.unwrap_or(a.rule.id),
            level: a.rule.level,
            verdict: a.exposure.verdict,
            audit_ids: a.evidence.into_iter().filter_map(|e| e.audit_id).collect(),
        })
        .collect();
    Ok(out)
}

fn simulate_to(
    dir: &Path,
    what: &str,
    options: &SimulateOptions,
) -> Result<std::path::PathBuf, ValidateError> {
    let path = dir.join(format!("{what}.log"));
    let io = |source| ValidateError::Io {
        what: what.to_owned(),
        source,
    };
    let file = std::fs::File::create(&path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    simulate::write(options, &mut out).map_err(|source| ValidateError::Simulate {
        what: what.to_owned(),
        source,
    })?;
    std::io::Write::flush(&mut out).map_err(io)?;
    Ok(path)
}

/// Runs every scenario and the benign background; `on_row` sees each row as it is done.
pub fn run(
    rules: &RuleSet,
    options: &ValidateOptions,
    mut on_row: impl FnMut(&ScenarioResult),
) -> Result<Report, ValidateError> {
    let dir = tempfile::tempdir().map_err(|source| ValidateError::Io {
        what: "validation".to_owned(),
        source,
    })?;
    let mut scenarios = Vec::new();
    for scenario in &options.scenarios {
        let path = simulate_to(
            dir.path(),
            scenario.name,
            &SimulateOptions {
                scenarios: vec![scenario],
                background: options.background,
                seed: options.seed,
                format: options.format,
            },
        )?;
        let all = hunt_file(&path, scenario.name, rules, options.threads)?;
        let _ = std::fs::remove_file(&path);
        // Only alerts that rest on the scenario's own events count: the background can raise
        // alerts of the same rules (an administrator's exec) and must not stand in for them.
        let own: HashSet<String> = simulate::scenario_audit_ids(scenario, options.seed)
            .into_iter()
            .collect();
        let alerts: Vec<&Found> = all
            .iter()
            .filter(|f| f.audit_ids.iter().any(|id| own.contains(id)))
            .collect();
        let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
        for f in &alerts {
            *per_rule.entry(f.rule.clone()).or_default() += 1;
        }
        let missing: Vec<&'static str> = scenario
            .expect
            .iter()
            .copied()
            .filter(|r| !per_rule.contains_key(*r))
            .collect();
        let level = alerts
            .iter()
            .filter(|f| scenario.expect.contains(&f.rule.as_str()))
            .filter_map(|f| Level::parse(&f.level))
            .max()
            .map(|l| l.as_str().to_owned());
        let exposure = scenario.expect.first().and_then(|main| {
            alerts
                .iter()
                .find(|f| f.rule == *main)
                .map(|f| f.verdict.clone())
        });
        let row = ScenarioResult {
            scenario: scenario.name,
            detected: missing.is_empty(),
            expected: scenario.expect.to_vec(),
            missing,
            level,
            exposure,
            expected_exposure: scenario.exposure,
            alerts: per_rule,
        };
        on_row(&row);
        scenarios.push(row);
    }
    let benign = if options.benign > 0 {
        let path = simulate_to(
            dir.path(),
            "benign",
            &SimulateOptions {
                scenarios: Vec::new(),
                background: options.benign,
                seed: options.seed,
                format: options.format,
            },
        )?;
        let alerts = hunt_file(&path, "the benign background", rules, options.threads)?;
        let mut high_or_above: BTreeMap<String, u64> = BTreeMap::new();
        for f in &alerts {
            if Level::parse(&f.level).is_some_and(|l| l >= Level::High) {
                *high_or_above
                    .entry(format!("{} {}", f.level, f.rule))
                    .or_default() += 1;
            }
        }
        Some(BenignResult {
            events: options.benign,
            alerts: alerts.len() as u64,
            high_or_above,
        })
    } else {
        None
    };
    Ok(Report { scenarios, benign })
}
