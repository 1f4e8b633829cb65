//! The CI gate: measures a *current* set of runs against a *baseline* selection and
//! decides whether the change may merge (see [`rules`] for the rules and their
//! statistics, [`family`] for how one gate run's many tests are corrected together,
//! [`triage`] for the verdict on each failure of a failed current run, [`verdict`] for
//! the job's verdict when known flakes are allowed).
//!
//! [`GateRequest`] is one evaluation as the command line asks for it: which runs,
//! which baseline, which config file and overrides; [`ci_env`] fills in what a PR job
//! leaves out. Each selection is one [`Engine`](crate::query::Engine) over the store
//! narrowed by that selection's filters, so every measure reuses the shared views and
//! named queries (`gate_*.sql`, `flaky.sql`).

pub mod ci_env;
pub mod config;
pub mod family;
pub mod measures;
pub mod request;
pub mod rules;
pub mod selection;
pub mod triage;
pub mod verdict;

use serde::Serialize;

pub use config::{ConfigError, GateConfig, Overrides};
pub use family::FamilySummary;
pub use measures::{RunMeasures, measure};
pub use request::{CurrentRuns, GateError, GateRequest};
pub use rules::{RuleSummary, Violation};
pub use selection::{RunSelection, SelectionError};
pub use triage::{Category, TriageItem};
pub use verdict::{JobStatus, Verdict};

/// The outcome of one gate evaluation, everything the renderers show.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// The current set, as given (`run 1234` or a selection).
    pub current: String,
    pub baseline: String,
    pub current_runs: u64,
    pub current_failed_runs: u64,
    pub baseline_runs: u64,
    pub baseline_failed_runs: u64,
    pub config: GateConfig,
    pub rules: Vec<RuleSummary>,
    pub violations: Vec<Violation>,
    /// The significance tests of this run, corrected together.
    pub family: FamilySummary,
    pub triage: Vec<TriageItem>,
    /// Pass or fail, and why (the rules, and the triage under `allow_known_flaky`).
    pub verdict: Verdict,
}

impl GateReport {
    /// Evaluates the rules on two measured sets, triages failed current runs and
    /// decides (`job_status`: the job's own result, when known).
    pub fn from_measures(
        current_label: String,
        baseline_label: String,
        baseline: &RunMeasures,
        current: &RunMeasures,
        config: &GateConfig,
        job_status: Option<JobStatus>,
    ) -> GateReport {
        let evaluation = rules::evaluate(baseline, current, config);
        let triage = triage::triage(baseline, current);
        let verdict = verdict::decide(
            &evaluation.violations,
            &triage,
            config.allow_known_flaky,
            job_status,
        );
        GateReport {
            current: current_label,
            baseline: baseline_label,
            current_runs: current.pipeline_runs.runs,
            current_failed_runs: current.pipeline_runs.failed,
            baseline_runs: baseline.pipeline_runs.runs,
            baseline_failed_runs: baseline.pipeline_runs.failed,
            config: config.clone(),
            rules: evaluation.rules,
            violations: evaluation.violations,
            family: evaluation.family,
            triage,
            verdict,
        }
    }

    /// No rule was violated (and, under `allow_known_flaky`, every failure of the
    /// judged run is a known flake).
    pub fn passed(&self) -> bool {
        self.verdict.passed
    }
}
