//! One gate evaluation as the command line asks for it: which runs to judge, which
//! baseline, which config file and which overrides. [`GateRequest::evaluate`] resolves
//! what is left out (the `[gate]` config, then the PR job's CI variables, see
//! [`ci_env`](super::ci_env)), measures both sets and applies the rules.

use std::path::PathBuf;

use super::config::{ConfigError, GateConfig, Overrides};
use super::measures::{RunMeasures, measure};
use super::selection::{RunSelection, SelectionError};
use super::verdict::JobStatus;
use super::{GateReport, ci_env};
use crate::query::{Engine, Filters, QueryError};
use crate::store::Store;

/// The runs to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurrentRuns {
    /// Every attempt of one pipeline run, by run id.
    Run(String),
    /// A selection as written: `branch=feature/x,since=2d`.
    Selection(String),
    /// The PR's branch over 7 days, from the CI variables.
    FromCi,
}

/// Everything one evaluation needs besides the store and the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRequest {
    pub current: CurrentRuns,
    /// The baseline selection as written; else `[gate] baseline` of the config, else
    /// the PR's target branch over 14 days.
    pub baseline: Option<String>,
    /// The config file; else `pipescope.toml` in the working directory when present.
    pub config_file: Option<PathBuf>,
    /// Thresholds from the command line, which win over the file.
    pub overrides: Overrides,
    /// The job's own result (`--job-status`), else from the CI variables
    /// ([`JobStatus::from_env`]).
    pub job_status: Option<JobStatus>,
}

/// The two sets a gate compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Current,
    Baseline,
}

impl Side {
    /// The option that gives this side's selection, for messages.
    pub fn option(self) -> &'static str {
        match self {
            Side::Current => "--current",
            Side::Baseline => "--baseline",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Side::Current => "current runs",
            Side::Baseline => "baseline",
        }
    }
}

/// Why the gate could not judge: bad configuration or selection, a failed query, or
/// a side with no runs (which must not pass silently).
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "no current runs given: pass --current-run RUN_ID or --current 'branch=NAME,since=2d' (no CI branch variable is set)"
    )]
    NoCurrentRuns,
    #[error("{} '{text}': {error}", .side.option())]
    Selection {
        side: Side,
        text: String,
        error: SelectionError,
    },
    #[error("cannot measure the {} ({label})", .side.what())]
    Measure {
        side: Side,
        label: String,
        #[source]
        source: QueryError,
    },
    #[error(
        "no pipeline runs in the current set ({label}) in {data}: was the run ingested? (`pipescope failures --by branch` lists what the store holds)"
    )]
    EmptyCurrent { label: String, data: PathBuf },
    #[error(
        "no pipeline runs in the baseline ({label}) in {data}: widen it with --baseline 'branch=main,since=30d'"
    )]
    EmptyBaseline { label: String, data: PathBuf },
}

impl GateRequest {
    /// Evaluates the gate on `store`. `env` looks up CI variables (`None` when unset);
    /// relative times in the selections count back from `now_ns`.
    pub async fn evaluate(
        &self,
        store: &Store,
        env: &dyn Fn(&str) -> Option<String>,
        now_ns: i64,
    ) -> Result<GateReport, GateError> {
        let config = GateConfig::load(self.config_file.as_deref(), &self.overrides)?;
        let (current_label, current_filters) = self.current(env, now_ns)?;
        let baseline_text = self.baseline_text(&config, env);
        let (baseline_label, baseline_filters) = resolve(Side::Baseline, &baseline_text, now_ns)?;
        let current = measure_side(store, &current_filters, Side::Current, &current_label).await?;
        let baseline =
            measure_side(store, &baseline_filters, Side::Baseline, &baseline_label).await?;
        if current.pipeline_runs.runs == 0 {
            return Err(GateError::EmptyCurrent {
                label: current_label,
                data: store.root().to_path_buf(),
            });
        }
        if baseline.pipeline_runs.runs == 0 {
            return Err(GateError::EmptyBaseline {
                label: baseline_label,
                data: store.root().to_path_buf(),
            });
        }
        Ok(GateReport::from_measures(
            current_label,
            baseline_label,
            &baseline,
            &current,
            &config,
            self.job_status.or_else(|| JobStatus::from_env(env)),
        ))
    }

    /// The current set: its label and engine filters.
    fn current(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        now_ns: i64,
    ) -> Result<(String, Filters), GateError> {
        let text = match &self.current {
            CurrentRuns::Run(run) => {
                let filters = Filters {
                    run_id: Some(run.clone()),
                    ..Filters::default()
                };
                return Ok((format!("run {run}"), filters));
            }
            CurrentRuns::Selection(text) => text.clone(),
            // Written out and parsed like a selection from the command line, so the
            // label and the errors read the same whichever way the branch came.
            CurrentRuns::FromCi => ci_env::current(env)
                .ok_or(GateError::NoCurrentRuns)?
                .describe(),
        };
        resolve(Side::Current, &text, now_ns)
    }

    /// The baseline as written: the request's, the config's, or the CI default.
    fn baseline_text(&self, config: &GateConfig, env: &dyn Fn(&str) -> Option<String>) -> String {
        self.baseline
            .clone()
            .or_else(|| config.baseline.clone())
            .unwrap_or_else(|| ci_env::baseline(env).describe())
    }
}

/// Parses a selection and resolves its times: its label and engine filters.
fn resolve(side: Side, text: &str, now_ns: i64) -> Result<(String, Filters), GateError> {
    let error = |error| GateError::Selection {
        side,
        text: text.to_string(),
        error,
    };
    let selection = RunSelection::parse(text).map_err(error)?;
    let filters = selection.filters(now_ns).map_err(error)?;
    Ok((selection.describe(), filters))
}

async fn measure_side(
    store: &Store,
    filters: &Filters,
    side: Side,
    label: &str,
) -> Result<RunMeasures, GateError> {
    let measured = async { measure(&Engine::open(store, filters).await?).await };
    measured.await.map_err(|source| GateError::Measure {
        side,
        label: label.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(current: CurrentRuns, baseline: Option<&str>) -> GateRequest {
        GateRequest {
            current,
            baseline: baseline.map(str::to_string),
            config_file: None,
            overrides: Overrides::default(),
            job_status: None,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_current_set_is_a_run_a_selection_or_the_ci_branch() {
        let now = 10 * 86_400_000_000_000;
        let run = request(CurrentRuns::Run("42".into()), None);
        let (label, filters) = run.current(&no_env, now).unwrap();
        assert_eq!(label, "run 42");
        assert_eq!(filters.run_id.as_deref(), Some("42"));

        let given = request(CurrentRuns::Selection("since=2d, branch=x".into()), None);
        assert_eq!(given.current(&no_env, now).unwrap().0, "branch=x,since=2d");

        let ci = request(CurrentRuns::FromCi, None);
        let env = |name: &str| (name == "GITHUB_HEAD_REF").then(|| "feature/y".to_string());
        let (label, filters) = ci.current(&env, now).unwrap();
        assert_eq!(label, "branch=feature/y,since=7d");
        assert_eq!(filters.since_ns, Some(3 * 86_400_000_000_000));
        assert!(matches!(
            ci.current(&no_env, now),
            Err(GateError::NoCurrentRuns)
        ));
    }

    #[test]
    fn the_baseline_comes_from_the_request_then_the_config_then_ci() {
        let config = GateConfig {
            baseline: Some("branch=develop".into()),
            ..GateConfig::default()
        };
        let env = |name: &str| (name == "GITHUB_BASE_REF").then(|| "release".to_string());
        let given = request(CurrentRuns::FromCi, Some("branch=main,since=30d"));
        assert_eq!(given.baseline_text(&config, &env), "branch=main,since=30d");
        let unset = request(CurrentRuns::FromCi, None);
        assert_eq!(unset.baseline_text(&config, &env), "branch=develop");
        let defaults = GateConfig::default();
        assert_eq!(
            unset.baseline_text(&defaults, &env),
            "branch=release,since=14d"
        );
    }

    #[test]
    fn selection_errors_name_the_option_and_the_text() {
        let err = resolve(Side::Baseline, "x", 0).unwrap_err().to_string();
        assert_eq!(
            err,
            "--baseline 'x': pair 1 ('x') is not key=value (keys: branch, pipeline, since, until)"
        );
    }
}
