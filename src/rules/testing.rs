//! `credwatch rules test`: every rule's own test events, run through the real decoder and the
//! compiled rule (with its filters), compared with what the test expects.

use super::RuleSet;
use super::matcher::EventView;
use crate::decode::{Decoder, RejectReason, Sink, SkipReason};
use crate::event::{Decoded, Origin};
use serde::Serialize;

/// Fills what a hand-written test event usually leaves out, so tests stay short: kind,
/// apiVersion, stage, a unique auditID and (for the `n`-th event) a time.
pub fn complete_event(event: &mut serde_json::Value, n: usize) {
    let Some(map) = event.as_object_mut() else {
        return;
    };
    let defaults = [
        ("kind", serde_json::Value::from("Event")),
        ("apiVersion", "audit.k8s.io/v1".into()),
        ("stage", "ResponseComplete".into()),
        ("auditID", format!("00000000-0000-4000-8000-{n:012}").into()),
    ];
    for (k, v) in defaults {
        map.entry(k).or_insert(v);
    }
    if !map.contains_key("requestReceivedTimestamp") {
        let t = jiff::Timestamp::from_second(1_767_225_600 + n as i64)
            .map(|t| t.to_string())
            .unwrap_or_default();
        map.insert("requestReceivedTimestamp".into(), t.clone().into());
        map.entry("stageTimestamp").or_insert(t.into());
    }
}

struct One<F: FnMut(&Decoded<'_, '_>)> {
    on_event: F,
    problem: Option<String>,
}

impl<F: FnMut(&Decoded<'_, '_>)> Sink for One<F> {
    fn event(&mut self, decoded: &Decoded<'_, '_>) {
        (self.on_event)(decoded);
    }

    fn reject(&mut self, _origin: &Origin<'_>, reason: RejectReason, detail: &str) {
        self.problem = Some(format!("{reason}: {detail}"));
    }

    fn skip(&mut self, _origin: &Origin<'_>, reason: SkipReason) {
        self.problem = Some(format!("skipped: {}", reason.as_str()));
    }
}

/// Decodes one JSON event as credwatch would read it from a file and calls `f` on it.
pub fn with_decoded<R>(
    event: &serde_json::Value,
    source: &str,
    mut f: impl FnMut(&Decoded<'_, '_>) -> R,
) -> Result<R, String> {
    let text = serde_json::to_string(event).map_err(|e| e.to_string())?;
    let mut result = None;
    let mut sink = One {
        on_event: |d: &Decoded<'_, '_>| {
            if result.is_none() {
                result = Some(f(d));
            }
        },
        problem: None,
    };
    Decoder::new(None).decode_record(text.as_bytes(), source, 1, &mut sink);
    let problem = sink.problem.take();
    match (result, problem) {
        (Some(r), _) => Ok(r),
        (None, Some(p)) => Err(format!("test event does not decode: {p}")),
        (None, None) => Err("test event gave no audit event".to_owned()),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub rule: String,
    pub location: String,
    pub expected: bool,
    pub matched: Option<bool>,
    pub error: Option<String>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.matched == Some(self.expected)
    }
}

/// Whether rule `index` (after its filters) matches the event.
pub fn rule_matches(set: &RuleSet, index: usize, decoded: &Decoded<'_, '_>) -> bool {
    let view = EventView::new(decoded);
    let rule = &set.rules[index];
    rule.applies(&view)
        && !rule
            .filters
            .iter()
            .any(|&f| set.filters[f].detection.eval(&view))
}

/// Runs every test of every rule and correlation.
pub fn run(set: &RuleSet) -> Vec<TestResult> {
    let mut out = Vec::new();
    for (i, rule) in set.rules.iter().enumerate() {
        for (n, test) in rule.tests.iter().enumerate() {
            let mut event = test.event.clone();
            complete_event(&mut event, n);
            let location = format!("{}:{}", test.file, test.line);
            let got = if event.is_array() {
                Err(
                    "a detection rule's test takes one `event` (`events` is for correlations)"
                        .to_owned(),
                )
            } else {
                // A test file beside a rule checks the rule as written (filters are a
                // deployment's tuning); tests inside a rule check it with its filters.
                let as_written =
                    test.file.ends_with(".tests.yml") || test.file.ends_with(".tests.yaml");
                with_decoded(&event, &location, |d| {
                    let matched = if as_written {
                        rule.applies(&EventView::new(d))
                    } else {
                        rule_matches(set, i, d)
                    };
                    (matched, crate::alert::exposure(d.event).verdict)
                })
                .and_then(|(matched, verdict)| match &test.exposure {
                    Some(want) if matched && *want != verdict => Err(format!(
                        "matched with exposure `{verdict}`, but the test expects `{want}`"
                    )),
                    _ => Ok(matched),
                })
            };
            out.push(TestResult {
                rule: rule.meta.title.clone(),
                location,
                expected: test.expect_match,
                matched: got.as_ref().ok().copied(),
                error: got.err(),
            });
        }
    }
    for corr in &set.correlations {
        for test in &corr.tests {
            let location = format!("{}:{}", test.file, test.line);
            let got =
                correlation_fires(set, corr.meta.key(), &test.event).and_then(|verdict| {
                    match (&test.exposure, verdict) {
                        (Some(want), Some(got)) if *want != got => Err(format!(
                            "fired with exposure `{got}`, but the test expects `{want}`"
                        )),
                        (_, verdict) => Ok(verdict.is_some()),
                    }
                });
            out.push(TestResult {
                rule: corr.meta.title.clone(),
                location,
                expected: test.expect_match,
                matched: got.as_ref().ok().copied(),
                error: got.err(),
            });
        }
    }
    out
}

/// Hunts `events` (completed like single test events: one second apart unless they give their
/// times) as one input file, through the real decoder and engine. Records that do not decode
/// are an error.
pub fn hunt_events(
    set: &RuleSet,
    events: &[serde_json::Value],
    options: &crate::engine::HuntOptions,
) -> Result<crate::engine::Collected, String> {
    let mut text = Vec::new();
    for (n, e) in events.iter().enumerate() {
        let mut e = e.clone();
        complete_event(&mut e, n);
        serde_json::to_writer(&mut text, &e).map_err(|e| e.to_string())?;
        text.push(b'\n');
    }
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, text).map_err(|e| format!("writing the test events: {e}"))?;
    let run = crate::engine::hunt_collect(
        &[path],
        set,
        options,
        &crate::redact::Redactor::with_key([0; 32]),
    )
    .map_err(|e| format!("running the test events: {e}"))?;
    if run.outcome.summary.rejected > 0 {
        return Err(format!("test events do not decode: {}", run.diagnostics));
    }
    Ok(run)
}

/// The exposure verdict of the correlation `key`'s first alert over `events` (a JSON array),
/// or `None` when it did not fire.
fn correlation_fires(
    set: &RuleSet,
    key: &str,
    events: &serde_json::Value,
) -> Result<Option<String>, String> {
    let Some(events) = events.as_array() else {
        return Err("a correlation's test takes an `events` list".to_owned());
    };
    let run = hunt_events(set, events, &crate::engine::HuntOptions::default())?;
    Ok(run
        .alerts
        .into_iter()
        .find(|a| a.rule.id == key)
        .map(|a| a.exposure.verdict))
}
