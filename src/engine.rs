//! The detection engine: runs a compiled [`RuleSet`] over decoded events on every worker,
//! turns matches into alerts, correlates, and hands back alerts in one deterministic order
//! (time, then origin, then rule) whatever the number of threads.

use crate::alert::{Alert, AlertRule, Evidence, MAX_EVIDENCE};
use crate::alert_store::AlertStore;
pub use crate::alert_store::Alerts;
use crate::event::Decoded;
use crate::ingest::{self, Handler, IngestOptions, Outcome};
use crate::redact::Redactor;
use crate::rules::matcher::{EventView, FieldRef, Val};
use crate::rules::sigma::CorrelationKind;
use crate::rules::{Level, RuleSet};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::PathBuf;

/// Orders alerts: event time (untimed first), input, line, item in batch, rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SortKey {
    pub time: i128,
    pub input: u32,
    pub line: u64,
    pub item: u32,
    pub rule: u32,
}

#[derive(Debug, Clone)]
pub struct HuntOptions {
    pub threads: usize,
    /// Alerts below this level are not reported (rules still run, for correlations).
    pub min_level: Level,
    pub prefilter: bool,
    /// Groups kept per correlation before the least recently seen are evicted.
    pub max_groups: usize,
    /// Bytes of alerts the hunt keeps in memory (shared by its threads) before writing sorted
    /// runs to temporary files (merged at the end), so memory stays bounded however many
    /// alerts there are.
    pub alert_memory: usize,
    /// What `credwatch scan` found in container logs: log reads of those containers are
    /// `exposed` (`hunt --scan`).
    pub scan: Option<std::sync::Arc<crate::scan::exposure::ScanIndex>>,
    /// An RBAC inventory: alerts on credentials of powerful service accounts carry their
    /// blast radius and rise a level (`hunt --inventory`).
    pub inventory: Option<std::sync::Arc<crate::inventory::blast::BlastIndex>>,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            threads: 1,
            min_level: Level::Informational,
            prefilter: true,
            max_groups: 100_000,
            alert_memory: 16 << 20,
            scan: None,
            inventory: None,
        }
    }
}

/// A match of a rule some correlation uses, kept (in memory up to a budget, then in sorted runs
/// on disk) until correlation runs.
/// (`A` is the alert by reference when a hit is kept: the bytes are the same.)
#[derive(serde::Serialize, serde::Deserialize)]
struct CorrHit<A = Alert> {
    key: SortKey,
    correlation: u32,
    position: u32,
    group: String,
    value: Option<String>,
    /// `value` as a number in millionths, when it reads as one (value_sum / value_avg).
    micros: Option<i128>,
    alert: A,
}

/// One worker's view: the rules, the alerts it made, the hits it kept for correlation.
struct Hunter<'r> {
    rules: &'r RuleSet,
    redactor: &'r Redactor,
    scan: Option<&'r crate::scan::exposure::ScanIndex>,
    inventory: Option<&'r crate::inventory::blast::BlastIndex>,
    min_level: Level,
    store: AlertStore,
    /// Per correlation, the hits of its rules, by time.
    hits: Vec<AlertStore>,
    matches_by_rule: Vec<u64>,
    suppressed: u64,
}

fn time_key(d: &Decoded<'_, '_>) -> (i128, bool) {
    match d.timestamp() {
        Some(t) => (t.as_nanosecond(), true),
        None => (i128::MIN, false),
    }
}

fn field_text(view: &EventView<'_, '_>, field: &FieldRef) -> Option<String> {
    let mut out = None;
    view.each_value(field, &mut |v| {
        out = Some(match v {
            Val::Str(s) => s.into_owned(),
            Val::Int(i) => i.to_string(),
        });
        true
    });
    out
}

impl Hunter<'_> {
    /// With an inventory, a request no rule flagged still alerts when it reached the token of a
    /// service account with high or critical permissions (a plain `kubectl get secret` of a
    /// legacy token Secret, a token minted, an exec into the pod that mounts it).
    fn inventory_alert(
        &mut self,
        inventory: &crate::inventory::blast::BlastIndex,
        input: u32,
        d: &Decoded<'_, '_>,
    ) {
        let object = d.event.object_ref.as_ref();
        let resource = object.and_then(|o| o.resource.as_deref());
        if !matches!(
            resource,
            Some("secrets" | "serviceaccounts" | "pods" | "nodes")
        ) {
            return;
        }
        let meta = crate::inventory::blast::reach_rule();
        let mut alert = Alert::from_event(meta, d, self.redactor);
        let Some(radius) = inventory.radius_of(&alert) else {
            return;
        };
        if radius.severity < crate::findings::Severity::High
            || !matches!(alert.exposure.verdict.as_str(), "exposed" | "possible")
        {
            return;
        }
        let level = if radius.severity == crate::findings::Severity::Critical {
            Level::High
        } else {
            Level::Medium
        };
        if level < self.min_level {
            return;
        }
        alert.rule.level = level.as_str().to_owned();
        alert.blast_radius = Some(radius);
        let (time, _) = time_key(d);
        let key = SortKey {
            time,
            input,
            line: d.origin.line,
            item: d.origin.item.unwrap_or(0),
            // After every rule and correlation: one id for the inventory's own alerts.
            rule: u32::MAX,
        };
        self.store.push(key, &alert);
    }
}

impl Handler for Hunter<'_> {
    fn event(&mut self, input: u32, d: &Decoded<'_, '_>) {
        let view = EventView::new(d);
        let mut matched: [usize; 16] = [0; 16];
        let mut extra = Vec::new();
        let mut n = 0;
        self.suppressed += self.rules.matches(&view, &mut |i| {
            if n < matched.len() {
                matched[n] = i;
                n += 1;
            } else {
                extra.push(i);
            }
        });
        if n == 0 {
            if let Some(inventory) = self.inventory {
                self.inventory_alert(inventory, input, d);
            }
            return;
        }
        let (time, _) = time_key(d);
        let key = |rule: usize| SortKey {
            time,
            input,
            line: d.origin.line,
            item: d.origin.item.unwrap_or(0),
            rule: rule as u32,
        };
        // The event's part of an alert (actor, target, exposure, …) is built once, whatever
        // number of rules matched; each use then sets its rule on it (no copy per alert).
        let (redactor, scan, inventory) = (self.redactor, self.scan, self.inventory);
        let mut base: Option<Alert> = None;
        let alert_for = |base: &mut Option<Alert>, meta: &crate::rules::RuleMeta| -> Alert {
            let mut alert = base.take().unwrap_or_else(|| {
                let mut alert = Alert::from_event(meta, d, redactor);
                if let Some(scan) = scan {
                    scan.refine(&mut alert);
                }
                if let Some(inventory) = inventory {
                    inventory.refine(&mut alert);
                }
                alert
            });
            alert.rule = AlertRule::from_meta(meta);
            crate::inventory::blast::raise_level(&mut alert);
            alert
        };
        let mut emitted = false;
        for &i in matched[..n].iter().chain(&extra) {
            self.matches_by_rule[i] += 1;
            let rule = &self.rules.rules[i];
            emitted |= rule.emits;
            if !rule.emits {
            } else if inventory.is_some() {
                // The inventory may raise the level: decide on the alert's own.
                let alert = alert_for(&mut base, &rule.meta);
                if Level::parse(&alert.rule.level).is_some_and(|l| l >= self.min_level) {
                    self.store.push(key(i), &alert);
                }
                base = Some(alert);
            } else if rule.meta.level >= self.min_level {
                let alert = alert_for(&mut base, &rule.meta);
                self.store.push(key(i), &alert);
                base = Some(alert);
            }
            for &(c, position) in &rule.correlations {
                let corr = &self.rules.correlations[c];
                let group = corr.group_by[position]
                    .iter()
                    .map(|f| field_text(&view, f).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\u{1f}");
                let value = corr.value_field[position]
                    .as_ref()
                    .and_then(|f| field_text(&view, f));
                let alert = alert_for(&mut base, &rule.meta);
                self.hits[c].push_item(
                    key(i),
                    &CorrHit {
                        key: key(i),
                        correlation: c as u32,
                        position: position as u32,
                        group,
                        micros: value.as_deref().and_then(micros),
                        value,
                        alert: &alert,
                    },
                );
                base = Some(alert);
            }
        }
        // Matched only rules that feed correlations: the inventory may still have its say.
        if !emitted && let Some(inventory) = self.inventory {
            self.inventory_alert(inventory, input, d);
        }
    }
}

/// What a hunt did, beside its alerts.
#[derive(Debug, Default, Clone, Serialize)]
pub struct HuntStats {
    pub alerts: u64,
    pub alerts_by_rule: BTreeMap<String, u64>,
    pub alerts_by_level: BTreeMap<String, u64>,
    pub suppressed_by_filters: u64,
    pub correlation_groups_evicted: u64,
    pub correlation_events_without_time: u64,
    pub prefilter: String,
    /// The literals a record must contain one of to be decoded (when the prefilter is on).
    pub prefilter_anchors: Vec<String>,
    pub rules: usize,
    pub threads: usize,
    /// Alerts written to temporary files to bound memory (read back in order at the end).
    pub alerts_spilled: u64,
    /// Matches of correlated rules written to temporary files the same way.
    pub correlation_hits_spilled: u64,
    /// Why alerts could not be written out, when that happened (they stayed in memory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_spill_error: Option<String>,
}

/// Runs `rules` over `paths`.
pub fn hunt<W: Write + Send>(
    paths: &[PathBuf],
    ingest_options: &IngestOptions,
    rules: &RuleSet,
    options: &HuntOptions,
    redactor: &Redactor,
    diagnostics: &mut W,
) -> (Outcome, Alerts, HuntStats) {
    let threads = options.threads.max(1);
    // One handler per thread; the reader thread is one of them and decodes whenever the workers
    // are busy. A reader beside `threads` workers was measured slower (more threads than cores
    // time-slice): bench/hunt.sh, scaling 1.45x against 1.68x.
    let handlers = threads;
    // The alert budget is the hunt's, shared by its handlers; correlation hits share each
    // handler's, one store per correlation.
    let alert_memory = options.alert_memory / handlers;
    let hit_memory = alert_memory / rules.correlations.len().max(1);
    let hunters: Vec<Hunter<'_>> = (0..handlers)
        .map(|_| Hunter {
            rules,
            redactor,
            scan: options.scan.as_deref(),
            inventory: options.inventory.as_deref(),
            min_level: options.min_level,
            store: AlertStore::new(alert_memory),
            hits: (0..rules.correlations.len())
                .map(|_| AlertStore::new(hit_memory))
                .collect(),
            matches_by_rule: vec![0; rules.rules.len()],
            suppressed: 0,
        })
        .collect();
    // `--strict` validates every record, so nothing may be passed over unread.
    // The inventory's own alert (a token of a powerful account reached) looks at records no rule
    // asks for: the rules' prefilter cannot speak for it.
    let use_prefilter = options.prefilter
        && !ingest_options.strict
        && options.inventory.is_none()
        && rules.prefilter.enabled();
    let prefilter = if use_prefilter {
        let sample = sample_records(paths);
        rules
            .prefilter
            .tuned(sample.split(|&b| b == b'\n').filter(|l| !l.is_empty()))
    } else {
        rules.prefilter.clone()
    };
    // Tuning may find that this input's records nearly all need decoding.
    let use_prefilter = use_prefilter && prefilter.enabled();
    let prefilter_fn = |record: &[u8]| prefilter.may_match(record);
    let (outcome, hunters) = ingest::ingest_parallel(
        paths,
        ingest_options,
        use_prefilter.then_some(&prefilter_fn as ingest::Prefilter<'_>),
        diagnostics,
        hunters,
    );
    let mut stats = HuntStats {
        rules: rules.rules.len(),
        threads,
        prefilter: match (&prefilter.off_because, options.prefilter) {
            (_, false) => "off (--no-prefilter)".to_owned(),
            (Some(why), true) => format!("off: {why}"),
            (None, true) if ingest_options.strict => "off (--strict reads every record)".to_owned(),
            (None, true) if options.inventory.is_some() => {
                "off (--inventory looks at every record)".to_owned()
            }
            (None, true) => format!(
                "on ({} anchor literals, {} more checked beside them)",
                prefilter.literals.len(),
                prefilter.checked.len()
            ),
        },
        prefilter_anchors: if use_prefilter {
            prefilter.literals.clone()
        } else {
            Vec::new()
        },
        ..HuntStats::default()
    };
    let mut stores = Vec::new();
    let mut hits: Vec<Vec<AlertStore>> =
        (0..rules.correlations.len()).map(|_| Vec::new()).collect();
    for h in hunters {
        stats.suppressed_by_filters += h.suppressed;
        stores.push(h.store);
        for (c, store) in h.hits.into_iter().enumerate() {
            hits[c].push(store);
        }
    }
    let mut corr_store = AlertStore::new(options.alert_memory);
    for (c, stores_of_c) in hits.into_iter().enumerate() {
        for store in &stores_of_c {
            stats.correlation_hits_spilled += store.spilled;
            if let Some(e) = &store.spill_error {
                stats.alert_spill_error =
                    Some(format!("writing correlation hits to a temporary file: {e}"));
            }
        }
        if let Err(e) = correlate(
            rules,
            c,
            options,
            Alerts::new(stores_of_c),
            &mut corr_store,
            &mut stats,
        ) {
            stats.alert_spill_error = Some(format!("reading correlation hits back: {e}"));
        }
    }
    stores.push(corr_store);
    for store in &stores {
        for (&rule, &n) in &store.by_rule {
            let meta = match rule as usize {
                r if r < rules.rules.len() => &rules.rules[r].meta,
                r => match rules.correlations.get(r - rules.rules.len()) {
                    Some(correlation) => &correlation.meta,
                    None => crate::inventory::blast::reach_rule(),
                },
            };
            *stats.alerts_by_rule.entry(meta.title.clone()).or_default() += n;
            stats.alerts += n;
        }
        for (level, &n) in &store.by_level {
            *stats.alerts_by_level.entry(level.clone()).or_default() += n;
        }
        stats.alerts_spilled += store.spilled;
        if let Some(e) = &store.spill_error {
            stats.alert_spill_error = Some(format!("writing alerts to a temporary file: {e}"));
        }
    }
    (outcome, Alerts::new(stores), stats)
}

/// A hunt whose alerts are wanted as values rather than printed.
pub struct Collected {
    pub outcome: Outcome,
    pub alerts: Vec<Alert>,
    pub stats: HuntStats,
    /// What the run reported about bad records.
    pub diagnostics: String,
}

/// Runs `rules` over `paths` with default input options and returns the alerts in their final
/// order: for `validate`, correlation rule tests and the test suite.
pub fn hunt_collect(
    paths: &[PathBuf],
    rules: &RuleSet,
    options: &HuntOptions,
    redactor: &Redactor,
) -> std::io::Result<Collected> {
    let mut diagnostics = Vec::new();
    let (outcome, alerts, stats) = hunt(
        paths,
        &IngestOptions::default(),
        rules,
        options,
        redactor,
        &mut diagnostics,
    );
    let mut collected = Vec::new();
    alerts.try_for_each_line(|line| {
        collected.push(serde_json::from_slice::<Alert>(line).map_err(std::io::Error::other)?);
        Ok(())
    })?;
    Ok(Collected {
        outcome,
        alerts: collected,
        stats,
        diagnostics: String::from_utf8_lossy(&diagnostics).trim().to_owned(),
    })
}

/// The first MiB of the first file, for tuning the prefilter to this input's traffic (stdin
/// cannot be read twice, so it is not sampled).
fn sample_records(paths: &[PathBuf]) -> Vec<u8> {
    use std::io::Read;
    let (inputs, _) = crate::source::expand(paths);
    let Some(input) = inputs
        .iter()
        .find(|i| matches!(i, crate::source::Input::File(_)))
    else {
        return Vec::new();
    };
    let mut sample = Vec::new();
    if let Ok((reader, _)) = crate::source::open(input) {
        let _ = reader.take(1 << 20).read_to_end(&mut sample);
    }
    sample
}

/// One group's window, with running tallies so each event costs O(1) instead of a pass over
/// the window (a busy group's window can hold tens of thousands of events).
struct Group {
    events: VecDeque<CorrHit>,
    last_seen: i128,
    /// value_count: events per distinct value in the window.
    distinct: HashMap<String, u32>,
    /// value_sum / value_avg: the window's numbers, summed in millionths so that adding and
    /// removing them is exact.
    sum_micros: i128,
    numbers: usize,
    /// temporal: events per listed rule in the window.
    per_rule: Vec<u32>,
}

impl Group {
    fn new(now: i128, rules: usize) -> Self {
        Group {
            events: VecDeque::new(),
            last_seen: now,
            distinct: HashMap::new(),
            sum_micros: 0,
            numbers: 0,
            per_rule: vec![0; rules],
        }
    }

    fn add(&mut self, hit: CorrHit) {
        if let Some(v) = hit.value.as_deref() {
            match self.distinct.get_mut(v) {
                Some(n) => *n += 1,
                None => {
                    self.distinct.insert(v.to_owned(), 1);
                }
            }
        }
        if let Some(m) = hit.micros {
            self.sum_micros += m;
            self.numbers += 1;
        }
        if let Some(n) = self.per_rule.get_mut(hit.position as usize) {
            *n += 1;
        }
        self.events.push_back(hit);
    }

    fn remove_oldest(&mut self) {
        let Some(hit) = self.events.pop_front() else {
            return;
        };
        if let Some(v) = hit.value.as_deref()
            && let Some(n) = self.distinct.get_mut(v)
        {
            *n -= 1;
            if *n == 0 {
                self.distinct.remove(v);
            }
        }
        if let Some(m) = hit.micros {
            self.sum_micros -= m;
            self.numbers -= 1;
        }
        if let Some(n) = self.per_rule.get_mut(hit.position as usize) {
            *n = n.saturating_sub(1);
        }
    }

    /// Empties the window (after it fired).
    fn clear(&mut self) -> Vec<CorrHit> {
        self.distinct.clear();
        self.sum_micros = 0;
        self.numbers = 0;
        self.per_rule.iter_mut().for_each(|n| *n = 0);
        self.events.drain(..).collect()
    }
}

/// A value as a number in millionths, when it reads as one.
fn micros(value: &str) -> Option<i128> {
    let x = value.trim().parse::<f64>().ok()?;
    // `as` saturates: absurd magnitudes stay finite.
    x.is_finite().then(|| (x * 1e6).round() as i128)
}

/// Runs correlation `c` over its hits, read back in time order from the hunters' stores.
/// Windows slide: at each event the group's events older than the timespan are dropped, the
/// condition is checked, and on a hit an alert is placed at that event and the group starts
/// afresh. Memory holds the open windows, not every hit.
fn correlate(
    rules: &RuleSet,
    c: usize,
    options: &HuntOptions,
    hits: Alerts,
    store: &mut AlertStore,
    stats: &mut HuntStats,
) -> std::io::Result<()> {
    let corr = &rules.correlations[c];
    let span = corr.timespan_secs as i128 * 1_000_000_000;
    let mut groups: HashMap<String, Group> = HashMap::new();
    hits.try_for_each_line(|line| {
        let hit: CorrHit = serde_json::from_slice(line).map_err(std::io::Error::other)?;
        if hit.key.time == i128::MIN {
            stats.correlation_events_without_time += 1;
            return Ok(());
        }
        let now = hit.key.time;
        let key = hit.key;
        if !groups.contains_key(hit.group.as_str()) && groups.len() >= options.max_groups {
            // Evict the least recently seen tenth, so eviction stays rare and cheap.
            let mut seen: Vec<i128> = groups.values().map(|g| g.last_seen).collect();
            seen.sort_unstable();
            let cut = seen[(seen.len() / 10).min(seen.len() - 1)];
            let before = groups.len();
            groups.retain(|_, g| g.last_seen > cut);
            stats.correlation_groups_evicted += (before - groups.len()) as u64;
        }
        let group = match groups.get_mut(hit.group.as_str()) {
            Some(g) => g,
            None => groups
                .entry(hit.group.clone())
                .or_insert_with(|| Group::new(now, corr.rules.len())),
        };
        group.last_seen = now;
        while group
            .events
            .front()
            .is_some_and(|h| h.key.time < now - span)
        {
            group.remove_oldest();
        }
        group.add(hit);
        if fires(corr, group) {
            let events = group.clear();
            // The inventory may raise a correlation's level: decide on the alert's own then.
            let could_pass = corr.meta.level >= options.min_level || options.inventory.is_some();
            if could_pass
                && let Some(alert) = correlation_alert(rules, c, &events)
                && Level::parse(&alert.rule.level).is_some_and(|l| l >= options.min_level)
            {
                let key = SortKey {
                    rule: (rules.rules.len() + c) as u32,
                    ..key
                };
                store.push(key, &alert);
            }
        }
        Ok(())
    })
}

fn fires(corr: &crate::rules::Correlation, group: &Group) -> bool {
    match corr.kind {
        CorrelationKind::EventCount => corr.holds(group.events.len() as f64),
        CorrelationKind::ValueCount => corr.holds(group.distinct.len() as f64),
        CorrelationKind::ValueSum | CorrelationKind::ValueAvg => {
            if group.numbers == 0 {
                return false;
            }
            let sum = group.sum_micros as f64 / 1e6;
            let n = if corr.kind == CorrelationKind::ValueSum {
                sum
            } else {
                sum / group.numbers as f64
            };
            corr.holds(n)
        }
        CorrelationKind::Temporal => {
            let distinct = group.per_rule.iter().filter(|&&n| n > 0).count();
            if corr.conditions.is_empty() {
                distinct == corr.rules.len()
            } else {
                corr.holds(distinct as f64)
            }
        }
        CorrelationKind::TemporalOrdered => {
            // The listed rules must appear in order: find rule 0, then rule 1 after it, ….
            let mut next = 0u32;
            for hit in &group.events {
                if hit.position == next {
                    next += 1;
                }
            }
            let wanted = corr.rules.len() as u32;
            if corr.conditions.is_empty() {
                next == wanted
            } else {
                next == wanted && corr.holds(next as f64)
            }
        }
    }
}

fn verdict_rank(verdict: &str) -> u8 {
    match verdict {
        "exposed" => 3,
        "possible" => 2,
        "attempted" => 1,
        _ => 0,
    }
}

fn correlation_alert(rules: &RuleSet, c: usize, events: &[CorrHit]) -> Option<Alert> {
    let corr = &rules.correlations[c];
    // A correlation fires on the event just added, so `events` is never empty.
    let last = events.last()?;
    let mut alert = last.alert.clone();
    alert.rule = AlertRule::from_meta(&corr.meta);
    alert.count = events.len() as u64;
    // The window's strongest verdict: one Secret returned among many refusals is an exposure.
    let strongest = events
        .iter()
        .map(|h| &h.alert.exposure)
        .max_by_key(|e| verdict_rank(&e.verdict));
    if let Some(e) = strongest
        && verdict_rank(&e.verdict) > verdict_rank(&alert.exposure.verdict)
    {
        alert.exposure = e.clone();
    }
    // The worst blast radius in the window (events the request was refused for do not count).
    alert.blast_radius = events
        .iter()
        .filter(|h| h.alert.exposure.verdict != "attempted")
        .filter_map(|h| h.alert.blast_radius.as_ref())
        .max_by_key(|b| b.severity)
        .cloned();
    crate::inventory::blast::raise_level(&mut alert);
    let evidence: Vec<Evidence> = events
        .iter()
        .flat_map(|h| h.alert.evidence.iter().cloned())
        .collect();
    if evidence.len() > MAX_EVIDENCE {
        let half = MAX_EVIDENCE / 2;
        alert.evidence_omitted = (evidence.len() - MAX_EVIDENCE) as u64;
        alert.evidence = evidence[..half]
            .iter()
            .chain(&evidence[evidence.len() - half..])
            .cloned()
            .collect();
    } else {
        alert.evidence = evidence;
    }
    Some(alert)
}

#[cfg(test)]
mod tests {
    use super::SortKey;

    /// Correlation hits go through JSON when they spill: the untimed key (`i128::MIN`) and
    /// nanosecond times must come back exactly.
    #[test]
    fn sort_keys_survive_the_round_trip() {
        for time in [i128::MIN, 0, 1_767_225_600_123_456_789, i128::MAX] {
            let key = SortKey {
                time,
                input: 3,
                line: u64::MAX,
                item: 7,
                rule: 9,
            };
            let text = serde_json::to_string(&key).expect("serializes");
            let back: SortKey = serde_json::from_str(&text).expect("deserializes");
            assert_eq!(back, key, "{text}");
        }
    }
}
