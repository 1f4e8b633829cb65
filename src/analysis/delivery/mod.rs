//! Delivery: a change's path from its first pull-request check through merge to each
//! environment's deployment, and the four DORA keys, from the same traces every other
//! analysis reads.
//!
//! The runs and deployments come from SQL (`queries/delivery_runs.sql`,
//! `queries/deployments.sql`, one row per run or deployment); which run merged a
//! change, which deployment first included it, and which deployments failed are
//! sequences in time, done here: [`changes`] builds each change's path, [`stages`] its
//! waterfall, [`dora`] the keys of a window. The team's conventions traces do not carry
//! (default branches, production names, the failure window) are [`settings`].

pub mod changes;
pub mod dora;
pub mod history;
pub mod settings;
pub mod stages;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use changes::{ChangePath, paths};
pub use dora::{Band, DoraBy, DoraKeys, Period};
pub use history::History;
pub use settings::DeliverySettings;
pub use stages::{Stage, stages};

use crate::query::rows::rfc3339;

/// One change in the list of `pipescope delivery`. Times are RFC 3339, durations
/// seconds; `path` says where it went, in order, with the time since its first CI run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub repo: Option<String>,
    pub commit: String,
    pub pr: Option<String>,
    pub title: Option<String>,
    pub branch: Option<String>,
    pub first_ci_run: String,
    /// From the first to the last pull-request check (null without a pull request).
    pub pr_checks_s: Option<f64>,
    /// From the last check to the merge.
    pub review_wait_s: Option<f64>,
    pub merged: Option<String>,
    pub path: String,
    pub production: Option<String>,
    pub lead_time_s: Option<f64>,
    pub lead_time: Option<String>,
}

impl ChangeRow {
    pub fn of(p: &ChangePath, settings: &DeliverySettings) -> ChangeRow {
        let seconds = |ns: i64| ns as f64 / 1e9;
        let mut path: Vec<String> = Vec::new();
        if let Some(m) = &p.merge {
            path.push(format!("merged +{}", elapsed(m.start_ns - p.first_ci_ns)));
        }
        for r in &p.reached {
            path.push(format!(
                "{} +{}",
                r.environment,
                elapsed(r.end_ns - p.first_ci_ns)
            ));
        }
        ChangeRow {
            repo: p.repo.clone(),
            commit: p.commit.clone(),
            pr: p.pr.clone(),
            title: p.title.clone(),
            branch: p.branch.clone(),
            first_ci_run: rfc3339(p.first_ci_ns),
            pr_checks_s: p.pr_checks.map(|(s, e)| seconds(e - s)),
            review_wait_s: match (p.pr_checks, &p.merge) {
                (Some((_, checked)), Some(m)) => Some(seconds((m.start_ns - checked).max(0))),
                _ => None,
            },
            merged: p.merge.as_ref().map(|m| rfc3339(m.start_ns)),
            path: if path.is_empty() {
                "not merged".into()
            } else {
                path.join(" → ")
            },
            production: p.production(settings).map(|r| rfc3339(r.end_ns)),
            lead_time_s: p.lead_time_ns.map(seconds),
            lead_time: p.lead_time_ns.map(elapsed),
        }
    }
}

/// One change in a sentence: what it is, where, and how far it got.
pub fn headline(p: &ChangePath, settings: &DeliverySettings) -> String {
    let what = match (&p.pr, &p.title) {
        (Some(pr), Some(t)) => format!("pull request #{pr} \"{t}\", commit {}", p.commit),
        (Some(pr), None) => format!("pull request #{pr}, commit {}", p.commit),
        _ => format!("commit {}", p.commit),
    };
    let repo = p
        .repo
        .as_deref()
        .map(|r| format!(" in {r}"))
        .unwrap_or_default();
    let outcome = match (p.lead_time_ns, p.production(settings), &p.merge) {
        (Some(lead), Some(_), _) => {
            format!(
                "reached production {} after its first CI run",
                elapsed(lead)
            )
        }
        (_, _, Some(_)) => "merged, not in production yet".to_string(),
        _ => "not merged".to_string(),
    };
    format!("{what}{repo}: {outcome}")
}

/// One stage of a change's waterfall (`pipescope delivery --change`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageRow {
    pub stage: String,
    /// `run` or `wait`.
    pub kind: String,
    pub start: String,
    pub end: String,
    /// Since the change's first CI run.
    pub offset_s: f64,
    pub duration_s: f64,
    pub duration: String,
}

impl StageRow {
    pub fn of(stage: &Stage, first_ci_ns: i64) -> StageRow {
        StageRow {
            stage: stage.stage.clone(),
            kind: stage.kind.clone(),
            start: rfc3339(stage.start_ns),
            end: rfc3339(stage.end_ns),
            offset_s: (stage.start_ns - first_ci_ns) as f64 / 1e9,
            duration_s: stage.duration_ns() as f64 / 1e9,
            duration: elapsed(stage.duration_ns()),
        }
    }
}

/// One DORA key of one group (`pipescope dora`): its value in canonical units
/// (deployments per week, seconds, a ratio), DevLake's band, and the baseline's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DoraRow {
    /// The repository or the deploying pipeline (see `by` in the parameters).
    pub group: String,
    pub key: String,
    pub value: Option<f64>,
    pub unit: String,
    pub band: Option<String>,
    pub baseline: Option<f64>,
    /// `better`, `worse` or `same` than the baseline (null without one).
    pub trend: Option<String>,
    /// The value for people, with its evidence (`12 in 4.3 weeks`).
    pub shown: String,
}

/// The DORA rows of the window `current` per group, each with the trend against the
/// same group's keys in `baseline`; the deployments are judged once for both.
pub fn dora_window(
    history: &History,
    paths: &[ChangePath],
    settings: &DeliverySettings,
    by: DoraBy,
    current: Period,
    baseline: Period,
) -> Vec<DoraRow> {
    let judged = dora::judge(history, settings);
    let now = dora::keys(&judged, paths, settings, by, current);
    let before = dora::keys(&judged, paths, settings, by, baseline);
    now.iter()
        .flat_map(|(group, k)| dora_rows(group, k, before.get(group)))
        .collect()
}

/// The rows of one group: frequency, lead time (median and p90), change failure rate,
/// time to restore.
pub fn dora_rows(group: &str, now: &DoraKeys, before: Option<&DoraKeys>) -> Vec<DoraRow> {
    let s = |ns: Option<i64>| ns.map(|v| v as f64 / 1e9);
    let row = |key: &str,
               unit: &str,
               value: Option<f64>,
               band: Option<Band>,
               baseline: Option<f64>,
               higher_is_better: bool,
               shown: String| DoraRow {
        group: group.to_string(),
        key: key.to_string(),
        value,
        unit: unit.to_string(),
        band: band.map(|b| b.as_str().to_string()),
        baseline,
        trend: trend(value, baseline, higher_is_better),
        shown,
    };
    let b = before;
    vec![
        row(
            "deployment_frequency",
            "per_week",
            Some(now.deployments_per_week),
            Some(now.frequency_band()),
            b.map(|b| b.deployments_per_week),
            true,
            format!(
                "{:.1}/week ({} deployments on {} days)",
                now.deployments_per_week, now.deployments, now.deployment_days
            ),
        ),
        row(
            "deployment_days",
            "per_week",
            Some(now.deployment_days_per_week),
            Some(now.frequency_band()),
            b.map(|b| b.deployment_days_per_week),
            true,
            format!(
                "{:.1} days/week (median week {})",
                now.deployment_days_per_week, now.median_deployment_days_per_week
            ),
        ),
        row(
            "lead_time_median",
            "seconds",
            s(now.lead_time_median_ns),
            now.lead_time_band(),
            b.and_then(|b| s(b.lead_time_median_ns)),
            false,
            now.lead_time_median_ns
                .map_or("no change reached production".into(), |v| {
                    format!("{} ({} changes)", elapsed(v), now.changes)
                }),
        ),
        row(
            "lead_time_p90",
            "seconds",
            s(now.lead_time_p90_ns),
            None,
            b.and_then(|b| s(b.lead_time_p90_ns)),
            false,
            now.lead_time_p90_ns.map_or(String::new(), elapsed),
        ),
        row(
            "change_failure_rate",
            "ratio",
            now.change_failure_rate,
            now.failure_rate_band(),
            b.and_then(|b| b.change_failure_rate),
            false,
            now.change_failure_rate
                .map_or("no production deployment".into(), |r| {
                    format!(
                        "{:.0} % ({} of {})",
                        r * 100.0,
                        now.failed_deployments,
                        now.production_deployments
                    )
                }),
        ),
        row(
            "time_to_restore_median",
            "seconds",
            s(now.time_to_restore_median_ns),
            now.restore_band(),
            b.and_then(|b| s(b.time_to_restore_median_ns)),
            false,
            match now.time_to_restore_median_ns {
                Some(v) => format!(
                    "{} ({} restored, {} not yet)",
                    elapsed(v),
                    now.restores,
                    now.unrestored
                ),
                None if now.unrestored > 0 => {
                    format!("{} failed deployments not restored yet", now.unrestored)
                }
                None => "no failed deployment".into(),
            },
        ),
    ]
}

fn trend(now: Option<f64>, before: Option<f64>, higher_is_better: bool) -> Option<String> {
    let (now, before) = (now?, before?);
    let same = (now - before).abs() <= 1e-9 * now.abs().max(before.abs()).max(1.0);
    let word = if same {
        "same"
    } else if (now > before) == higher_is_better {
        "better"
    } else {
        "worse"
    };
    Some(word.to_string())
}

/// A duration as people say it: `45s`, `12m`, `3h 20m`, `2d 4h`.
pub fn elapsed(ns: i64) -> String {
    let s = ns.max(0) / 1_000_000_000;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}
