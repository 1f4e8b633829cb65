//! The gate's rules, each a pure function of the two sets' measures and the config.
//!
//! - **duration_p50 / duration_p95**: a pipeline, task, step or test whose p50 (p95)
//!   grew by more than the relative threshold *and* by at least `min_increase_s`, *and*
//!   whose current samples are significantly slower than the baseline's: a one-sided
//!   Mann-Whitney U test (exact when there are no ties, see
//!   [`mann_whitney_greater`]). One test per subject serves both rules: it is the same
//!   question asked of the same samples. With a single current run the test is that
//!   run's rank among the baseline's, so it cannot go below p = 1/(n + 1).
//! - **failure_rate**: failure rate up by more than the threshold (percentage points),
//!   both windows with `failure_rate_min_runs`, Fisher's exact test.
//! - **new_flaky**: flaky in the current window (a pass and a fail on one commit), not
//!   flaky in a baseline that ran the test `new_flaky_min_runs` times.
//! - **new_failure**: failed in the current window and never in a baseline that ran it
//!   `new_failure_min_runs` times — unless it is flaky in the current window (then it is
//!   a new flaky test, not a new failure).
//!
//! "Significant" is decided once for the whole gate run, not per subject: the tests of
//! every enabled statistical rule form one family, corrected by Holm–Bonferroni after
//! Tarone's rule (see [`family`](super::family)), so `significance` bounds the chance
//! that a run with no change fails at all. new_flaky and new_failure are counts, not
//! tests, and are not in the family.

use serde::Serialize;
use serde_json::{Value, json};

use super::config::GateConfig;
use super::family::{self, Decision, FamilySummary, Hypothesis};
use super::measures::{Counts, RunMeasures, Subject};
use crate::analysis::stats::{OneSided, fisher_exact, mann_whitney_greater, percentile, round3};

/// One rule checked on one subject that failed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub subject: Subject,
    /// The baseline's value of the measure (seconds, failure rate, executions…).
    pub baseline: Value,
    pub current: Value,
    pub threshold: Value,
    /// The evidence: sample sizes, raw and adjusted p-value, family size, change.
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

/// Everything the rules found: per-rule summaries, the violations and the family of
/// significance tests they were judged in.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub rules: Vec<RuleSummary>,
    pub violations: Vec<Violation>,
    pub family: FamilySummary,
}

/// A duration subject with enough samples on both sides.
struct DurationCheck<'a> {
    subject: &'a Subject,
    base: &'a [f64],
    cur: &'a [f64],
    test: OneSided,
}

/// A failure-rate subject with enough runs in both windows.
struct FailureCheck<'a> {
    subject: &'a Subject,
    base: Counts,
    cur: Counts,
    p: f64,
    min_p: f64,
}

/// Checks every enabled rule.
pub fn evaluate(baseline: &RunMeasures, current: &RunMeasures, config: &GateConfig) -> Evaluation {
    let (durations, duration_too_few) = duration_checks(baseline, current, config);
    let (failures, failure_too_few) = failure_checks(baseline, current, config);

    // One family over the enabled statistical rules: durations first, then failures.
    let durations_on = config.enabled("duration_p50") || config.enabled("duration_p95");
    let failures_on = config.enabled("failure_rate");
    let mut hypotheses = Vec::new();
    if durations_on {
        hypotheses.extend(durations.iter().map(|d| Hypothesis {
            p: d.test.p,
            min_p: d.test.min_p,
        }));
    }
    if failures_on {
        hypotheses.extend(failures.iter().map(|f| Hypothesis {
            p: f.p,
            min_p: f.min_p,
        }));
    }
    let (family, decisions) = family::holm_tarone(&hypotheses, config.significance);
    let untested = Decision {
        tested: false,
        adjusted_p: 1.0,
        rejected: false,
    };
    let (duration_decisions, failure_decisions) = if durations_on {
        decisions.split_at(durations.len())
    } else {
        (&[][..], &decisions[..])
    };
    let duration_decision = |i: usize| duration_decisions.get(i).copied().unwrap_or(untested);
    let failure_decision = |i: usize| failure_decisions.get(i).copied().unwrap_or(untested);

    let mut summaries = Vec::new();
    let mut violations = Vec::new();
    for (rule, pct, threshold) in [
        ("duration_p50", 50.0, config.p50_increase),
        ("duration_p95", 95.0, config.p95_increase),
    ] {
        let rule = DurationRule {
            rule,
            pct,
            threshold,
        };
        let (mut s, v) = rule.judge(&durations, &duration_decision, &family, config);
        s.too_few_runs = duration_too_few;
        summaries.push(s);
        violations.extend(v);
    }
    let (mut s, v) = failure_rate_rule(&failures, &failure_decision, &family, config);
    s.too_few_runs = failure_too_few;
    summaries.push(s);
    violations.extend(v);
    for (s, v) in [
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
    Evaluation {
        rules: summaries,
        violations,
        family,
    }
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

/// The duration subjects both rules judge, and how many had too few samples.
fn duration_checks<'a>(
    baseline: &'a RunMeasures,
    current: &'a RunMeasures,
    config: &GateConfig,
) -> (Vec<DurationCheck<'a>>, u64) {
    let mut checks = Vec::new();
    let mut too_few = 0;
    for (subject, cur) in &current.durations {
        let Some(base) = baseline.durations.get(subject) else {
            continue;
        };
        if (base.len() as u64) < config.duration_min_runs || cur.is_empty() {
            too_few += 1;
            continue;
        }
        checks.push(DurationCheck {
            subject,
            base,
            cur,
            test: mann_whitney_greater(cur, base),
        });
    }
    (checks, too_few)
}

/// duration_p50 or duration_p95.
struct DurationRule {
    rule: &'static str,
    pct: f64,
    threshold: f64,
}

impl DurationRule {
    fn judge(
        &self,
        checks: &[DurationCheck<'_>],
        decision: &dyn Fn(usize) -> Decision,
        family: &FamilySummary,
        config: &GateConfig,
    ) -> (RuleSummary, Vec<Violation>) {
        let (rule, pct, threshold) = (self.rule, self.pct, self.threshold);
        let mut s = summary(
            rule,
            format!(
                "+{:.0}% and +{}s, adjusted p < {}",
                threshold * 100.0,
                config.min_increase_s,
                config.significance
            ),
        );
        s.checked = checks.len() as u64;
        let mut violations = Vec::new();
        let mut worst: Option<(f64, String)> = None;
        for (i, check) in checks.iter().enumerate() {
            let (base, cur) = (check.base, check.cur);
            let (b, c) = (percentile(base, pct), percentile(cur, pct));
            let change = if b > 0.0 { c / b - 1.0 } else { 0.0 };
            if worst.as_ref().is_none_or(|(w, _)| change > *w) {
                worst = Some((change, check.subject.label()));
            }
            let decided = decision(i);
            let violated = change > threshold && c - b >= config.min_increase_s && decided.rejected;
            if !violated {
                continue;
            }
            violations.push(Violation {
                rule,
                subject: check.subject.clone(),
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
                    "test": "mann_whitney_u",
                    "alternative": "greater",
                    "exact": check.test.exact,
                    "p_value": check.test.p,
                    "adjusted_p_value": decided.adjusted_p,
                    "correction": family.method,
                    "family_size": family.tested,
                    "significance": config.significance,
                    "min_increase_s": config.min_increase_s,
                }),
            });
        }
        if let Some((change, label)) = worst {
            s.observed = format!("{:+.0}% ({label})", change * 100.0);
        }
        s.violations = violations.len() as u64;
        (s, violations)
    }
}

/// The failure-rate subjects with enough runs in both windows, and how many had too few.
fn failure_checks<'a>(
    baseline: &RunMeasures,
    current: &'a RunMeasures,
    config: &GateConfig,
) -> (Vec<FailureCheck<'a>>, u64) {
    let mut checks = Vec::new();
    let mut too_few = 0;
    let min = config.failure_rate_min_runs;
    for (subject, cur) in &current.failures {
        let base = baseline.failures.get(subject).copied().unwrap_or_default();
        if base.runs < min || cur.runs < min {
            too_few += 1;
            continue;
        }
        let fisher = |cur_failed: u64, base_failed: u64| {
            fisher_exact(
                cur_failed,
                cur.runs - cur_failed,
                base_failed,
                base.runs - base_failed,
            )
        };
        // The rule only flags increases, and Fisher's p falls as the current window
        // takes more of the failures: the smallest p it can flag has as many of them as
        // possible in the current window (margins fixed).
        let failed = cur.failed + base.failed;
        let most = failed.min(cur.runs);
        checks.push(FailureCheck {
            subject,
            base,
            cur: *cur,
            p: fisher(cur.failed, base.failed),
            min_p: fisher(most, failed - most),
        });
    }
    (checks, too_few)
}

fn failure_rate_rule(
    checks: &[FailureCheck<'_>],
    decision: &dyn Fn(usize) -> Decision,
    family: &FamilySummary,
    config: &GateConfig,
) -> (RuleSummary, Vec<Violation>) {
    let threshold = config.failure_rate_increase_pp;
    let mut s = summary(
        "failure_rate",
        format!("+{threshold} pp, adjusted p < {}", config.significance),
    );
    s.checked = checks.len() as u64;
    let mut violations = Vec::new();
    let mut worst: Option<(f64, String)> = None;
    for (i, check) in checks.iter().enumerate() {
        let (base, cur) = (check.base, check.cur);
        let increase_pp = (cur.rate() - base.rate()) * 100.0;
        if worst.as_ref().is_none_or(|(w, _)| increase_pp > *w) {
            worst = Some((increase_pp, check.subject.label()));
        }
        let decided = decision(i);
        if increase_pp > threshold && decided.rejected {
            violations.push(Violation {
                rule: "failure_rate",
                subject: check.subject.clone(),
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
                    "p_value": check.p,
                    "adjusted_p_value": decided.adjusted_p,
                    "correction": family.method,
                    "family_size": family.tested,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(kind: &str, name: &str) -> Subject {
        Subject {
            kind: kind.into(),
            pipeline: "ci".into(),
            name: name.into(),
        }
    }

    /// `n` samples around `centre`, distinct and evenly spread (±5 %).
    fn samples(centre: f64, n: usize, offset: f64) -> Vec<f64> {
        let mut v: Vec<f64> = (0..n)
            .map(|i| centre * (0.95 + 0.1 * (i as f64 + offset) / n as f64))
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// 200 unchanged tests and a task `build` slowed by `factor`; `build` and `lint`
    /// also counted as failing or not.
    fn sets(factor: f64) -> (RunMeasures, RunMeasures) {
        let (mut base, mut cur) = (RunMeasures::default(), RunMeasures::default());
        for i in 0..200 {
            let s = subject("test", &format!("t{i}"));
            base.durations.insert(s.clone(), samples(10.0, 20, 0.25));
            cur.durations.insert(s, samples(10.0, 10, 0.5));
        }
        let build = subject("task", "build");
        base.durations.insert(build.clone(), samples(60.0, 20, 0.0));
        cur.durations
            .insert(build.clone(), samples(60.0 * factor, 10, 0.0));
        let never = Counts {
            runs: 20,
            failed: 0,
        };
        base.failures.insert(build.clone(), never);
        cur.failures.insert(
            build,
            Counts {
                runs: 10,
                failed: 0,
            },
        );
        (base, cur)
    }

    #[test]
    fn one_family_for_both_duration_rules_without_untestable_failure_counts() {
        let (base, cur) = sets(1.5);
        let e = evaluate(&base, &cur, &GateConfig::default());
        // 201 duration subjects, one test each for p50 and p95; the task that never
        // failed is a failure-rate test that cannot reach any level.
        assert_eq!((e.family.hypotheses, e.family.tested), (202, 201));
        assert_eq!(e.family.untestable, 1);
        let rules: Vec<(&str, &str)> = e
            .violations
            .iter()
            .map(|v| (v.rule, v.subject.name.as_str()))
            .collect();
        assert_eq!(
            rules,
            [("duration_p50", "build"), ("duration_p95", "build")]
        );
        let stats = &e.violations[0].statistics;
        let (p, adjusted) = (
            stats["p_value"].as_f64().unwrap(),
            stats["adjusted_p_value"].as_f64().unwrap(),
        );
        assert!((adjusted - 201.0 * p).abs() < 1e-12 * adjusted, "{stats}");
        assert_eq!(stats["family_size"], 201);
    }

    #[test]
    fn a_p_value_significant_alone_is_not_among_hundreds() {
        // A +30 % p50 change with p around 1e-3: enough per subject at 0.01, not once
        // corrected for 201 subjects.
        let (base, mut cur) = sets(1.0);
        let t = subject("test", "t0");
        let mut shifted = samples(10.0, 10, 0.5);
        shifted[..3].iter_mut().for_each(|x| *x *= 1.03);
        shifted[3..].iter_mut().for_each(|x| *x *= 1.35);
        cur.durations.insert(t.clone(), shifted.clone());
        let p = mann_whitney_greater(&shifted, &base.durations[&t]).p;
        assert!(p > 1e-4 && p < 0.01, "p = {p}");
        let e = evaluate(&base, &cur, &GateConfig::default());
        assert!(e.violations.is_empty(), "{:?}", e.violations);
        // With the duration rules off, their tests leave the family too.
        let config = GateConfig {
            disable: vec!["duration_p50".into(), "duration_p95".into()],
            ..GateConfig::default()
        };
        let e = evaluate(&base, &cur, &config);
        assert_eq!((e.family.hypotheses, e.family.tested), (1, 0));
    }
}
