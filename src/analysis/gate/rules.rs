//! The gate's rules, each a pure function of the two sets' measures and the config.
//!
//! - **duration_p50 / duration_p95**: a pipeline, task, step or test whose p50 (p95)
//!   grew by more than the relative threshold *and* by at least `min_increase_s`, *and*
//!   whose current samples are significantly slower than the baseline's: one-sided
//!   Mann-Whitney U (half the two-sided p when the current side is the larger) below
//!   `significance`. With fewer current samples than `duration_min_runs` (a single
//!   run), Mann-Whitney cannot reach a small p, so the test becomes the empirical tail:
//!   every current sample must lie above the baseline's maximum, p = 1 / (n + 1).
//! - **failure_rate**: failure rate up by more than the threshold (percentage points),
//!   both windows with `failure_rate_min_runs`, Fisher's exact test below `significance`.
//! - **new_flaky**: flaky in the current window (a pass and a fail on one commit), not
//!   flaky in a baseline that ran the test `new_flaky_min_runs` times.
//! - **new_failure**: failed in the current window and never in a baseline that ran it
//!   `new_failure_min_runs` times — unless it is flaky in the current window (then it is
//!   a new flaky test, not a new failure).

use serde::Serialize;
use serde_json::{Value, json};

use super::config::GateConfig;
use super::measures::{Counts, RunMeasures, Subject};
use crate::analysis::stats::{fisher_exact, mann_whitney_u, percentile, round3};

/// One rule checked on one subject that failed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub subject: Subject,
    /// The baseline's value of the measure (seconds, failure rate, executions…).
    pub baseline: Value,
    pub current: Value,
    pub threshold: Value,
    /// The evidence: sample sizes, p-value, change.
    pub statistics: Value,
}

/// A rule's summary line: how many subjects it could judge, the worst one seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSummary {
    pub rule: &'static str,
    pub enabled: bool,
    /// Subjects with enough data in both windows to be judged.
    pub checked: u64,
    /// Subjects left out for too few runs.
    pub too_few_runs: u64,
    /// The largest change seen among checked subjects (human text), if any.
    pub observed: String,
    pub threshold: String,
    pub violations: u64,
}

impl RuleSummary {
    pub fn passed(&self) -> bool {
        self.violations == 0
    }
}

/// Checks every enabled rule.
pub fn evaluate(
    baseline: &RunMeasures,
    current: &RunMeasures,
    config: &GateConfig,
) -> (Vec<RuleSummary>, Vec<Violation>) {
    let mut summaries = Vec::new();
    let mut violations = Vec::new();
    for (rule, pct, threshold) in [
        ("duration_p50", 50.0, config.p50_increase),
        ("duration_p95", 95.0, config.p95_increase),
    ] {
        let (s, v) = duration_rule(rule, pct, threshold, baseline, current, config);
        summaries.push(s);
        violations.extend(v);
    }
    for (s, v) in [
        failure_rate_rule(baseline, current, config),
        new_flaky_rule(baseline, current, config),
        new_failure_rule(baseline, current, config),
    ] {
        summaries.push(s);
        violations.extend(v);
    }
    for s in &mut summaries {
        s.enabled = config.enabled(s.rule);
    }
    violations.retain(|v| config.enabled(v.rule));
    for s in &mut summaries {
        if !s.enabled {
            s.violations = 0;
        }
    }
    (summaries, violations)
}

fn summary(rule: &'static str, threshold: String) -> RuleSummary {
    RuleSummary {
        rule,
        enabled: true,
        checked: 0,
        too_few_runs: 0,
        observed: "-".into(),
        threshold,
        violations: 0,
    }
}

fn duration_rule(
    rule: &'static str,
    pct: f64,
    threshold: f64,
    baseline: &RunMeasures,
    current: &RunMeasures,
    config: &GateConfig,
) -> (RuleSummary, Vec<Violation>) {
    let mut s = summary(
        rule,
        format!(
            "+{:.0}% and +{}s, p < {}",
            threshold * 100.0,
            config.min_increase_s,
            config.significance
        ),
    );
    let mut violations = Vec::new();
    let mut worst: Option<(f64, String)> = None;
    for (subject, cur) in &current.durations {
        let Some(base) = baseline.durations.get(subject) else {
            continue;
        };
        if (base.len() as u64) < config.duration_min_runs || cur.is_empty() {
            s.too_few_runs += 1;
            continue;
        }
        s.checked += 1;
        let (b, c) = (percentile(base, pct), percentile(cur, pct));
        let change = if b > 0.0 { c / b - 1.0 } else { 0.0 };
        if worst.as_ref().is_none_or(|(w, _)| change > *w) {
            worst = Some((change, subject.label()));
        }
        let (test, p_value) = if (cur.len() as u64) >= config.duration_min_runs {
            let (u, p) = mann_whitney_u(cur, base);
            let slower = u > (cur.len() * base.len()) as f64 / 2.0;
            ("mann_whitney_u", if slower { p / 2.0 } else { 1.0 })
        } else {
            let max = base.last().copied().unwrap_or(f64::INFINITY);
            let above = cur.first().is_some_and(|&first| first > max);
            let p = if above {
                1.0 / (base.len() as f64 + 1.0)
            } else {
                1.0
            };
            ("empirical_tail", p)
        };
        let violated =
            change > threshold && c - b >= config.min_increase_s && p_value < config.significance;
        if violated {
            violations.push(Violation {
                rule,
                subject: subject.clone(),
                baseline: json!(round3(b)),
                current: json!(round3(c)),
                threshold: json!(threshold),
                statistics: json!({
                    "unit": "s",
                    "percentile": pct,
                    "relative_change": round3(change),
                    "absolute_change_s": round3(c - b),
                    "baseline_runs": base.len(),
                    "current_runs": cur.len(),
                    "baseline_p50_s": round3(percentile(base, 50.0)),
                    "baseline_p95_s": round3(percentile(base, 95.0)),
                    "current_p50_s": round3(percentile(cur, 50.0)),
                    "current_p95_s": round3(percentile(cur, 95.0)),
                    "test": test,
                    "p_value": p_value,
                    "significance": config.significance,
                    "min_increase_s": config.min_increase_s,
                }),
            });
        }
    }
    if let Some((change, label)) = worst {
        s.observed = format!("{:+.0}% ({label})", change * 100.0);
    }
    s.violations = violations.len() as u64;
    (s, violations)
}

fn failure_rate_rule(
    baseline: &RunMeasures,
    current: &RunMeasures,
    config: &GateConfig,
) -> (RuleSummary, Vec<Violation>) {
    let threshold = config.failure_rate_increase_pp;
    let mut s = summary(
        "failure_rate",
        format!("+{threshold} pp, p < {}", config.significance),
    );
    let mut violations = Vec::new();
    let mut worst: Option<(f64, String)> = None;
    for (subject, cur) in &current.failures {
        let base = baseline.failures.get(subject).copied().unwrap_or_default();
        let min = config.failure_rate_min_runs;
        if base.runs < min || cur.runs < min {
            s.too_few_runs += 1;
            continue;
        }
        s.checked += 1;
        let increase_pp = (cur.rate() - base.rate()) * 100.0;
        if worst.as_ref().is_none_or(|(w, _)| increase_pp > *w) {
            worst = Some((increase_pp, subject.label()));
        }
        let p_value = fisher_exact(
            cur.failed,
            cur.runs - cur.failed,
            base.failed,
            base.runs - base.failed,
        );
        if increase_pp > threshold && p_value < config.significance {
            violations.push(Violation {
                rule: "failure_rate",
                subject: subject.clone(),
                baseline: json!(round3(base.rate())),
                current: json!(round3(cur.rate())),
                threshold: json!(threshold),
                statistics: json!({
                    "unit": "failure_rate",
                    "increase_pp": round3(increase_pp),
                    "baseline_runs": base.runs,
                    "baseline_failed": base.failed,
                    "current_runs": cur.runs,
                    "current_failed": cur.failed,
                    "test": "fisher_exact",
                    "p_value": p_value,
                    "significance": config.significance,
                }),
            });
        }
    }
    if let Some((pp, label)) = worst {
        s.observed = format!("{pp:+.1} pp ({label})");
    }
    s.violations = violations.len() as u64;
    (s, violations)
}

fn test_subject(name: &str) -> Subject {
    Subject {
        kind: "test".into(),
        pipeline: String::new(),
        name: name.to_string(),
    }
}

fn new_flaky_rule(
    baseline: &RunMeasures,
    current: &RunMeasures,
    config: &GateConfig,
) -> (RuleSummary, Vec<Violation>) {
    let min = config.new_flaky_min_runs;
    let mut s = summary(
        "new_flaky",
        format!("0 (baseline >= {min} executions, not flaky)"),
    );
    let mut violations = Vec::new();
    for test in &current.flaky {
        let base = baseline.tests.get(test).copied().unwrap_or_default();
        if base.runs < min {
            s.too_few_runs += 1;
            continue;
        }
        s.checked += 1;
        if baseline.flaky.contains(test) {
            continue;
        }
        let cur = current.tests.get(test).copied().unwrap_or_default();
        violations.push(Violation {
            rule: "new_flaky",
            subject: test_subject(test),
            baseline: json!("not flaky"),
            current: json!("flaky"),
            threshold: json!(min),
            statistics: run_counts(base, cur),
        });
    }
    s.observed = format!("{} new flaky", violations.len());
    s.violations = violations.len() as u64;
    (s, violations)
}

fn new_failure_rule(
    baseline: &RunMeasures,
    current: &RunMeasures,
    config: &GateConfig,
) -> (RuleSummary, Vec<Violation>) {
    let min = config.new_failure_min_runs;
    let mut s = summary("new_failure", format!("0 (baseline >= {min} passes)"));
    let mut violations = Vec::new();
    for (test, cur) in &current.tests {
        if cur.failed == 0 || current.flaky.contains(test) {
            continue;
        }
        let base = baseline.tests.get(test).copied().unwrap_or_default();
        if base.runs < min {
            s.too_few_runs += 1;
            continue;
        }
        s.checked += 1;
        if base.failed > 0 {
            continue;
        }
        violations.push(Violation {
            rule: "new_failure",
            subject: test_subject(test),
            baseline: json!(format!("{} of {} failed", base.failed, base.runs)),
            current: json!(format!("{} of {} failed", cur.failed, cur.runs)),
            threshold: json!(min),
            statistics: run_counts(base, *cur),
        });
    }
    s.observed = format!("{} new failing", violations.len());
    s.violations = violations.len() as u64;
    (s, violations)
}

/// The evidence behind the test rules: runs and failures on each side.
fn run_counts(base: Counts, cur: Counts) -> Value {
    json!({
        "baseline_runs": base.runs,
        "baseline_failed": base.failed,
        "current_runs": cur.runs,
        "current_failed": cur.failed,
    })
}
