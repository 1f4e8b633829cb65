//! The CI gate: measures a *current* set of runs against a *baseline* window and
//! decides whether the change may merge (see [`rules`] for the rules and their
//! statistics, [`triage`] for the verdict on each failure of a failed current run).
//!
//! Each window is one [`Engine`] over the store narrowed by that window's filters, so
//! every measure reuses the shared views and named queries (`gate_*.sql`, `flaky.sql`).

pub mod config;
pub mod measures;
pub mod rules;
pub mod triage;
pub mod window;

use serde::Serialize;

pub use config::GateConfig;
pub use measures::{WindowMeasures, measure};
pub use rules::{RuleSummary, Violation};
pub use triage::{Category, TriageItem};
pub use window::Window;

/// The outcome of one gate evaluation, everything the renderers show.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// The current set, as given (`run 1234` or a window).
    pub current: String,
    pub baseline: String,
    pub current_runs: u64,
    pub current_failed_runs: u64,
    pub baseline_runs: u64,
    pub baseline_failed_runs: u64,
    pub config: GateConfig,
    pub rules: Vec<RuleSummary>,
    pub violations: Vec<Violation>,
    pub triage: Vec<TriageItem>,
}

impl GateReport {
    /// Evaluates the rules and triages failed current runs.
    pub fn evaluate(
        current_label: String,
        baseline_label: String,
        baseline: &WindowMeasures,
        current: &WindowMeasures,
        config: &GateConfig,
    ) -> GateReport {
        let (rules, violations) = rules::evaluate(baseline, current, config);
        GateReport {
            current: current_label,
            baseline: baseline_label,
            current_runs: current.pipeline_runs.runs,
            current_failed_runs: current.pipeline_runs.failed,
            baseline_runs: baseline.pipeline_runs.runs,
            baseline_failed_runs: baseline.pipeline_runs.failed,
            config: config.clone(),
            rules,
            violations,
            triage: triage::triage(baseline, current),
        }
    }

    /// No rule was violated.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}
