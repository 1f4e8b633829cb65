//! The gate's error control across many subjects, measured over many random histories:
//!
//! - **false alarms**: on 60 quiet histories (nothing changed between the windows) of
//!   more than 200 subjects each, at most 5 % of gate runs report any violation;
//! - **power**: a +30 % slowdown of one task, 20 baseline runs and 10 current ones, is
//!   still caught in at least 95 % of 60 seeds.
//!
//! Each history is built in memory as the gate's measures (`RunMeasures`: what
//! `gate::measure` reads from a store) and judged by `GateReport::from_measures`, the
//! code `pipescope gate` runs after measuring, so every rule, the family-wise correction
//! and the evidence are the real ones; only the SQL that fills the measures is left out
//! (it is `tests/gate.rs`'s business, through the binary). Going through a store would
//! cost seconds per history in a debug build and test nothing more about the statistics.
//!
//! The noise is what CI durations look like run to run: a factor per run shared by every
//! subject of it (the runner's speed, log-normal σ = 0.04) times a factor per execution
//! (σ = 0.07), about 8 % in all; 2 % of executions are outliers 1.3–2× slower (a cold
//! cache, a noisy neighbour); durations are recorded to the millisecond, so the fastest
//! tests tie. Steps are sometimes skipped, tests added lately have few baseline runs,
//! tasks fail now and then (a failed execution has no duration) and a few flaky tests
//! fail and pass on retry at the same rate in both windows.

use pipescope::analysis::gate::measures::Subject;
use pipescope::analysis::gate::{GateConfig, GateReport, RunMeasures};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const PIPELINES: [&str; 2] = ["ci", "integration"];
const TASKS_PER_PIPELINE: usize = 12;
const STEPS_PER_TASK: usize = 2;
const TESTS: usize = 150;
const FLAKY_TESTS: usize = 5;
/// The task slowed down in the planted histories (pipeline `ci`).
const SLOW_TASK: &str = "task_03";
const SEEDS: u64 = 60;

/// What one history looks like: its sizes, and how much slower `SLOW_TASK` runs in the
/// current window.
#[derive(Debug, Clone, Copy)]
struct Shape {
    baseline_runs: usize,
    current_runs: usize,
    slowdown: f64,
    /// Log-normal σ of the per-execution noise (the per-run factor comes on top).
    execution_sigma: f64,
}

/// A subject's typical duration and failure rate, fixed for a history.
struct Plan {
    pipeline: &'static str,
    task: String,
    failure_rate: f64,
    steps: Vec<(String, f64, bool)>,
}

fn normal(rng: &mut SmallRng) -> f64 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u: f64 = rng.random();
    let v: f64 = rng.random();
    (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn subject(kind: &str, pipeline: &str, name: &str) -> Subject {
    Subject {
        kind: kind.into(),
        pipeline: pipeline.into(),
        name: name.into(),
    }
}

/// Generates the baseline and current measures of one history.
fn history(seed: u64, shape: Shape) -> (RunMeasures, RunMeasures) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut tasks = Vec::new();
    for pipeline in PIPELINES {
        for t in 0..TASKS_PER_PIPELINE {
            let base_s = (20.0 + 400.0 * rng.random::<f64>().powi(2)).round();
            let task = format!("task_{t:02}");
            // The planted task runs every time, so it has 20 and 10 samples.
            let planted = pipeline == "ci" && task == SLOW_TASK;
            let failure_rate = [0.0, 0.0, 0.02, 0.05, 0.1][rng.random_range(0..5)];
            let steps = (0..STEPS_PER_TASK)
                .map(|s| {
                    let share = if s == 0 { 0.7 } else { 0.3 };
                    // One step in eight runs only when its task needs it.
                    let optional = !planted && rng.random_bool(0.125);
                    (format!("step_{s}"), base_s * share, optional)
                })
                .collect();
            tasks.push(Plan {
                pipeline,
                task,
                failure_rate: if planted { 0.0 } else { failure_rate },
                steps,
            });
        }
    }
    // From milliseconds to a minute; the fastest ones tie at millisecond resolution.
    let tests: Vec<(String, f64)> = (0..TESTS)
        .map(|i| (format!("test_{i:03}"), 0.002 * 30_000f64.powf(rng.random())))
        .collect();
    // Tests added lately: in the last few baseline runs only.
    let added_lately: Vec<bool> = (0..TESTS).map(|_| rng.random_bool(0.05)).collect();

    let mut sides = [RunMeasures::default(), RunMeasures::default()];
    let total = shape.baseline_runs + shape.current_runs;
    for run in 0..total {
        let is_current = run >= shape.baseline_runs;
        let m = &mut sides[usize::from(is_current)];
        let run_factor = (0.04 * normal(&mut rng)).exp();
        let noisy = |rng: &mut SmallRng, seconds: f64| {
            let mut x = seconds * run_factor * (shape.execution_sigma * normal(rng)).exp();
            if rng.random_bool(0.02) {
                x *= rng.random_range(1.3..2.0);
            }
            (x * 1000.0).round() / 1000.0
        };
        for pipeline in PIPELINES {
            let mut pipeline_s = 0.0;
            let mut pipeline_failed = false;
            for plan in tasks.iter().filter(|p| p.pipeline == pipeline) {
                let slow = is_current && plan.pipeline == "ci" && plan.task == SLOW_TASK;
                let factor = if slow { shape.slowdown } else { 1.0 };
                let failed = rng.random_bool(plan.failure_rate);
                let counts = m
                    .failures
                    .entry(subject("task", pipeline, &plan.task))
                    .or_default();
                counts.runs += 1;
                counts.failed += u64::from(failed);
                if failed {
                    pipeline_failed = true;
                    continue;
                }
                let mut task_s = 0.0;
                for (step, seconds, optional) in &plan.steps {
                    if *optional && rng.random_bool(0.5) {
                        continue;
                    }
                    let d = noisy(&mut rng, seconds * factor);
                    task_s += d;
                    let name = format!("{} / {step}", plan.task);
                    m.durations
                        .entry(subject("step", pipeline, &name))
                        .or_default()
                        .push(d);
                }
                m.durations
                    .entry(subject("task", pipeline, &plan.task))
                    .or_default()
                    .push(task_s + 1.0);
                pipeline_s += task_s + 1.0;
            }
            let counts = m
                .failures
                .entry(subject("pipeline", pipeline, pipeline))
                .or_default();
            counts.runs += 1;
            counts.failed += u64::from(pipeline_failed);
            m.pipeline_runs.runs += 1;
            m.pipeline_runs.failed += u64::from(pipeline_failed);
            if !pipeline_failed {
                m.durations
                    .entry(subject("pipeline", pipeline, pipeline))
                    .or_default()
                    .push(pipeline_s);
            }
        }
        // The tests run in pipeline `ci`; a flaky one fails 30 % of the time and passes
        // on its in-run retry, in both windows alike.
        for (i, (test, seconds)) in tests.iter().enumerate() {
            if added_lately[i] && run + 3 < shape.baseline_runs {
                continue;
            }
            let flaky = i < FLAKY_TESTS;
            let failed = flaky && rng.random_bool(0.3);
            let (runs, failures) = (1 + u64::from(failed), u64::from(failed));
            for counts in [
                m.failures.entry(subject("test", "ci", test)).or_default(),
                m.tests.entry(test.clone()).or_default(),
            ] {
                counts.runs += runs;
                counts.failed += failures;
            }
            if failed {
                m.flaky.insert(test.clone());
            }
            let d = noisy(&mut rng, *seconds);
            m.durations
                .entry(subject("test", "ci", test))
                .or_default()
                .push(d);
        }
    }
    for m in &mut sides {
        for samples in m.durations.values_mut() {
            samples.sort_by(f64::total_cmp);
        }
    }
    let [baseline, current] = sides;
    (baseline, current)
}

/// The gate's verdict on one history, with the default configuration.
fn gate(seed: u64, shape: Shape) -> GateReport {
    gate_with(seed, shape, &GateConfig::default())
}

fn gate_with(seed: u64, shape: Shape, config: &GateConfig) -> GateReport {
    let (baseline, current) = history(seed, shape);
    GateReport::from_measures(
        "current".into(),
        "baseline".into(),
        &baseline,
        &current,
        config,
        None,
    )
}

/// The quiet shape of seed `seed`: windows of different sizes, as a real baseline and
/// PR give them.
fn quiet(seed: u64) -> Shape {
    let mut rng = SmallRng::seed_from_u64(10_000 + seed);
    Shape {
        baseline_runs: rng.random_range(20..=40),
        current_runs: rng.random_range(8..=15),
        slowdown: 1.0,
        execution_sigma: 0.07,
    }
}

/// The planted shape: 20 baseline runs, 10 current, `SLOW_TASK` +30 %.
fn planted(execution_sigma: f64) -> Shape {
    Shape {
        baseline_runs: 20,
        current_runs: 10,
        slowdown: 1.3,
        execution_sigma,
    }
}

/// The violations of a report as `rule subject` lines.
fn found(report: &GateReport) -> Vec<String> {
    report
        .violations
        .iter()
        .map(|v| format!("{} {}", v.rule, v.subject.label()))
        .collect()
}

fn caught(report: &GateReport) -> bool {
    report.violations.iter().any(|v| {
        v.rule.starts_with("duration_")
            && v.subject.kind == "task"
            && v.subject.pipeline == "ci"
            && v.subject.name == SLOW_TASK
    })
}

#[test]
fn quiet_histories_of_hundreds_of_subjects_rarely_fail() {
    let mut alarms = Vec::new();
    let mut family_sizes = Vec::new();
    for seed in 0..SEEDS {
        let report = gate(seed, quiet(seed));
        let checked = report.rules[0].checked;
        assert!(
            checked >= 200,
            "seed {seed}: only {checked} duration subjects"
        );
        assert!(
            report.family.hypotheses > report.family.tested && report.family.tested >= 200,
            "seed {seed}: {:?}",
            report.family
        );
        family_sizes.push(report.family.tested);
        if !report.passed() {
            alarms.push((seed, found(&report)));
        }
    }
    let rate = alarms.len() as f64 / SEEDS as f64;
    eprintln!(
        "quiet: {} of {SEEDS} gate runs reported a violation ({:.1} %), family sizes {}..={}: {alarms:?}",
        alarms.len(),
        rate * 100.0,
        family_sizes.iter().min().unwrap(),
        family_sizes.iter().max().unwrap(),
    );
    assert!(rate <= 0.05, "false alarms in {alarms:?}");
}

#[test]
fn a_thirty_percent_slower_task_is_still_caught() {
    let shape = planted(0.07);
    let mut missed = Vec::new();
    let mut others = 0;
    for seed in 0..SEEDS {
        let report = gate(20_000 + seed, shape);
        if !caught(&report) {
            missed.push(seed);
        }
        // What else failed: the slow task's steps and its pipeline are real findings.
        others += report
            .violations
            .iter()
            .filter(|v| {
                let slowed = v.subject.name.starts_with(SLOW_TASK) || v.subject.kind == "pipeline";
                !(v.subject.pipeline == "ci" && slowed)
            })
            .count();
    }
    let rate = 1.0 - missed.len() as f64 / SEEDS as f64;
    eprintln!(
        "planted +30 %: caught in {:.1} % of {SEEDS} seeds (missed {missed:?}); {others} violations elsewhere",
        rate * 100.0
    );
    assert!(rate >= 0.95, "missed in seeds {missed:?}");
    assert!(
        others <= 3,
        "{others} violations on subjects that did not change"
    );
}

#[test]
fn the_evidence_shows_raw_and_adjusted_p_and_the_family() {
    let shape = Shape {
        baseline_runs: 20,
        current_runs: 10,
        slowdown: 3.0,
        execution_sigma: 0.07,
    };
    let report = gate(7, shape);
    let v = report
        .violations
        .iter()
        .find(|v| v.rule == "duration_p50" && v.subject.name == SLOW_TASK)
        .unwrap_or_else(|| panic!("not caught: {:?}", found(&report)));
    let stats = &v.statistics;
    let p = stats["p_value"].as_f64().unwrap();
    let adjusted = stats["adjusted_p_value"].as_f64().unwrap();
    assert_eq!(stats["correction"], "holm");
    assert_eq!(stats["family_size"], report.family.tested);
    assert_eq!(stats["test"], "mann_whitney_u");
    // Ten samples above all twenty: the exact one-sided p is 1 / C(30, 10).
    assert_eq!(stats["exact"], true);
    assert_eq!(
        (
            stats["baseline_runs"].clone(),
            stats["current_runs"].clone()
        ),
        (20.into(), 10.into())
    );
    assert!((p - 1.0 / 30_045_015.0).abs() < 1e-15, "{stats}");
    // Holm multiplies the smallest p by the whole family.
    let m = report.family.tested as f64;
    assert!(
        adjusted >= p && adjusted <= m * p * (1.0 + 1e-12),
        "{stats}"
    );
    assert!(adjusted < 0.01);
}

/// Error and power, for the record (not asserted beyond what the tests above check):
/// over 200 seeds, the share of quiet gate runs with a violation and the share of
/// seeds in which the planted slowdown is caught, at two family-wise levels and three
/// noise levels. `cargo test --test gate_error_control -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, printed; run it by name"]
fn error_and_power_by_level_and_noise() {
    const N: u64 = 200;
    for significance in [0.01, 0.05] {
        let config = GateConfig {
            significance,
            ..GateConfig::default()
        };
        let alarms: Vec<Vec<String>> = (0..N)
            .map(|s| found(&gate_with(40_000 + s, quiet(s), &config)))
            .filter(|found| !found.is_empty())
            .collect();
        eprintln!(
            "significance {significance}: quiet runs with a violation {} of {N} ({:.1} %): {alarms:?}",
            alarms.len(),
            100.0 * alarms.len() as f64 / N as f64
        );
        for sigma in [0.05, 0.07, 0.09] {
            let hits = (0..N)
                .filter(|&s| caught(&gate_with(30_000 + s, planted(sigma), &config)))
                .count();
            eprintln!(
                "significance {significance}: execution sigma {sigma} (run factor 0.04 on top): +30 % caught in {hits} of {N} ({:.1} %)",
                100.0 * hits as f64 / N as f64
            );
        }
    }
}
