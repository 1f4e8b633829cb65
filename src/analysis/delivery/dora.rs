//! The four DORA keys of a window, from production deployments and change paths:
//!
//! - **deployment frequency**: successful production deployments per week, and
//!   deployment days (UTC dates with one) per week;
//! - **lead time for changes**: median and p90 of `production deployment end - first CI
//!   run start` of the changes whose production deployment ended in the window;
//! - **change failure rate**: failed production deployments / production deployments;
//!   a deployment failed when its job failed, or when the next successful deployment
//!   of the same environment, within the failure window, was a rollback (it deployed a
//!   commit that merged before the one this deployment deployed) or a hotfix (it ran on
//!   a hotfix branch, or deployed a change whose pull request came from one);
//! - **time to restore**: for each failed production deployment, the time from its end
//!   to the end of the next successful production deployment of that environment.
//!
//! Each key gets Apache DevLake's band (its 2023 benchmarks, `Band`), and the same keys
//! of a baseline window show the trend.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::changes::ChangePath;
use super::history::{Deployment, History};
use super::settings::DeliverySettings;

const HOUR_NS: i64 = 3_600 * 1_000_000_000;
const DAY_NS: i64 = 24 * HOUR_NS;
const WEEK_NS: i64 = 7 * DAY_NS;
const MONTH_NS: i64 = 30 * DAY_NS;

/// DevLake's performance bands (Accelerate State of DevOps 2023).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }

    /// Deployment frequency: elite when the median week of the window had a deployment
    /// every day ("on demand"), high with at least one deployment day a week, medium
    /// with at least one a month, low otherwise.
    pub fn of_frequency(median_days_per_week: f64, median_days_per_month: f64) -> Band {
        if median_days_per_week >= 7.0 {
            Band::Elite
        } else if median_days_per_week >= 1.0 {
            Band::High
        } else if median_days_per_month >= 1.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Lead time: under a day, a week, a month (30 days), or more.
    pub fn of_lead_time(ns: i64) -> Band {
        by_limits(ns, [DAY_NS, WEEK_NS, MONTH_NS])
    }

    /// Change failure rate: at most 5 %, 10 %, 15 %, or more.
    pub fn of_failure_rate(rate: f64) -> Band {
        if rate <= 0.05 {
            Band::Elite
        } else if rate <= 0.10 {
            Band::High
        } else if rate <= 0.15 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    /// Time to restore: under an hour, a day, a week, or more.
    pub fn of_restore(ns: i64) -> Band {
        by_limits(ns, [HOUR_NS, DAY_NS, WEEK_NS])
    }
}

fn by_limits(ns: i64, [elite, high, medium]: [i64; 3]) -> Band {
    if ns < elite {
        Band::Elite
    } else if ns < high {
        Band::High
    } else if ns < medium {
        Band::Medium
    } else {
        Band::Low
    }
}

/// `[start, end)` in ns since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start_ns: i64,
    pub end_ns: i64,
}

impl Period {
    fn contains(&self, t: i64) -> bool {
        self.start_ns <= t && t < self.end_ns
    }

    fn weeks(&self) -> f64 {
        (self.end_ns - self.start_ns) as f64 / WEEK_NS as f64
    }

    /// Back-to-back slices of `len` counted back from the end; a window shorter than
    /// one slice is one slice.
    fn slices(&self, len: i64) -> Vec<Period> {
        let mut slices = Vec::new();
        let mut end = self.end_ns;
        while end - len >= self.start_ns {
            slices.push(Period {
                start_ns: end - len,
                end_ns: end,
            });
            end -= len;
        }
        if slices.is_empty() {
            slices.push(*self);
        }
        slices
    }
}

/// What is grouped: the repository, or the pipeline that deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoraBy {
    Repo,
    Pipeline,
}

impl DoraBy {
    pub const ALL: [DoraBy; 2] = [DoraBy::Repo, DoraBy::Pipeline];

    pub fn name(self) -> &'static str {
        match self {
            DoraBy::Repo => "repo",
            DoraBy::Pipeline => "pipeline",
        }
    }

    fn of(self, d: &Deployment) -> Option<String> {
        match self {
            DoraBy::Repo => d.repo.clone(),
            DoraBy::Pipeline => d.pipeline.clone(),
        }
    }
}

/// The four keys of one group in one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DoraKeys {
    /// Successful production deployments.
    pub deployments: u64,
    pub deployment_days: u64,
    pub deployments_per_week: f64,
    pub deployment_days_per_week: f64,
    /// Medians over the window's weeks and 30-day months (what the band is read from).
    pub median_deployment_days_per_week: f64,
    pub median_deployment_days_per_month: f64,
    /// Changes whose production deployment ended in the window.
    pub changes: u64,
    pub lead_time_median_ns: Option<i64>,
    pub lead_time_p90_ns: Option<i64>,
    /// Production deployments with a result (successful and failed).
    pub production_deployments: u64,
    pub failed_deployments: u64,
    pub change_failure_rate: Option<f64>,
    pub restores: u64,
    /// Failed deployments with no successful one after them yet.
    pub unrestored: u64,
    pub time_to_restore_median_ns: Option<i64>,
}

impl DoraKeys {
    pub fn frequency_band(&self) -> Band {
        Band::of_frequency(
            self.median_deployment_days_per_week,
            self.median_deployment_days_per_month,
        )
    }
    pub fn lead_time_band(&self) -> Option<Band> {
        self.lead_time_median_ns.map(Band::of_lead_time)
    }
    pub fn failure_rate_band(&self) -> Option<Band> {
        self.change_failure_rate.map(Band::of_failure_rate)
    }
    pub fn restore_band(&self) -> Option<Band> {
        self.time_to_restore_median_ns.map(Band::of_restore)
    }
}

/// One production deployment, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged<'a> {
    pub deployment: &'a Deployment,
    /// Why it counts as failed: `job failed`, `rolled back`, `hotfix followed`.
    pub failure: Option<&'static str>,
    /// When it failed: the end of the next successful deployment of its environment.
    pub restored_ns: Option<i64>,
}

/// Every production deployment of the history, judged, oldest first.
pub fn judge<'a>(history: &'a History, settings: &DeliverySettings) -> Vec<Judged<'a>> {
    let merges = history.merge_times(settings);
    let hotfix_commits = hotfix_commits(history, settings);
    let mut production: Vec<&Deployment> = history
        .deployments
        .iter()
        .filter(|d| settings.is_production(&d.environment))
        .collect();
    production.sort_by_key(|d| (d.end_ns, d.start_ns));
    let merge_of = |d: &Deployment| {
        d.commit
            .as_ref()
            .and_then(|c| merges.get(&(d.repo.clone(), c.clone())).copied())
    };
    let mut judged = Vec::with_capacity(production.len());
    for (i, d) in production.iter().enumerate() {
        let same_target = |e: &&&Deployment| e.repo == d.repo && e.environment == d.environment;
        let next_ok = production[i + 1..]
            .iter()
            .filter(same_target)
            .find(|e| !e.failed);
        let failure = if d.failed {
            Some("job failed")
        } else {
            next_ok
                .filter(|e| e.end_ns - d.end_ns <= settings.failure_window_ns)
                .and_then(|e| {
                    let hotfix = settings.is_hotfix_branch(e.branch.as_deref())
                        || e.commit
                            .as_ref()
                            .is_some_and(|c| hotfix_commits.contains(&(e.repo.clone(), c.clone())));
                    let older = matches!((merge_of(e), merge_of(d)), (Some(a), Some(b)) if a < b);
                    if older {
                        Some("rolled back")
                    } else if hotfix {
                        Some("hotfix followed")
                    } else {
                        None
                    }
                })
        };
        let restored_ns = failure.and(next_ok.map(|e| e.end_ns));
        judged.push(Judged {
            deployment: d,
            failure,
            restored_ns,
        });
    }
    judged
}

/// The keys of each group (repository or deploying pipeline) in `period`, from the
/// history's [`judge`]d production deployments. Groups are those with a production
/// deployment in the period.
pub fn keys(
    judged: &[Judged],
    paths: &[ChangePath],
    settings: &DeliverySettings,
    by: DoraBy,
    period: Period,
) -> BTreeMap<String, DoraKeys> {
    let mut groups: BTreeMap<String, Vec<&Judged>> = BTreeMap::new();
    for j in judged
        .iter()
        .filter(|j| period.contains(j.deployment.end_ns))
    {
        let group = by.of(j.deployment).unwrap_or_default();
        groups.entry(group).or_default().push(j);
    }
    let mut lead_times: HashMap<String, Vec<i64>> = HashMap::new();
    for p in paths {
        let (Some(lead), Some(prod)) = (p.lead_time_ns, p.production(settings)) else {
            continue;
        };
        if !period.contains(prod.end_ns) {
            continue;
        }
        let group = match by {
            DoraBy::Repo => p.repo.clone(),
            DoraBy::Pipeline => prod.pipeline.clone(),
        };
        lead_times
            .entry(group.unwrap_or_default())
            .or_default()
            .push(lead);
    }
    groups
        .into_iter()
        .map(|(group, deployments)| {
            let leads = lead_times.remove(&group).unwrap_or_default();
            (group, group_keys(&deployments, leads, period))
        })
        .collect()
}

fn group_keys(judged: &[&Judged], mut leads: Vec<i64>, period: Period) -> DoraKeys {
    let ok: Vec<i64> = judged
        .iter()
        .filter(|j| !j.deployment.failed)
        .map(|j| j.deployment.end_ns)
        .collect();
    let days: BTreeSet<i64> = ok.iter().map(|t| t.div_euclid(DAY_NS)).collect();
    // Deployment days of a slice: the dates of its deployments.
    let days_in = |p: &Period| {
        let dates: BTreeSet<i64> = ok
            .iter()
            .filter(|&&t| p.contains(t))
            .map(|t| t.div_euclid(DAY_NS))
            .collect();
        dates.len() as f64
    };
    let per_slice = |len: i64| {
        let counts: Vec<f64> = period.slices(len).iter().map(days_in).collect();
        median(&counts).unwrap_or(0.0)
    };
    let weeks = period.weeks().max(f64::MIN_POSITIVE);
    let failed: Vec<&&Judged> = judged.iter().filter(|j| j.failure.is_some()).collect();
    let restores: Vec<f64> = failed
        .iter()
        .filter_map(|j| j.restored_ns.map(|r| (r - j.deployment.end_ns) as f64))
        .collect();
    leads.sort_unstable();
    let all = judged.len() as u64;
    DoraKeys {
        deployments: ok.len() as u64,
        deployment_days: days.len() as u64,
        deployments_per_week: ok.len() as f64 / weeks,
        deployment_days_per_week: days.len() as f64 / weeks,
        median_deployment_days_per_week: per_slice(WEEK_NS),
        median_deployment_days_per_month: per_slice(MONTH_NS),
        changes: leads.len() as u64,
        lead_time_median_ns: median(&leads.iter().map(|&l| l as f64).collect::<Vec<_>>())
            .map(|m| m.round() as i64),
        lead_time_p90_ns: nearest_rank(&leads, 0.9),
        production_deployments: all,
        failed_deployments: failed.len() as u64,
        change_failure_rate: (all > 0).then(|| failed.len() as f64 / all as f64),
        restores: restores.len() as u64,
        unrestored: (failed.len() - restores.len()) as u64,
        time_to_restore_median_ns: median(&restores).map(|m| m.round() as i64),
    }
}

/// The middle value, or the mean of the two middle ones.
fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The nearest-rank percentile of sorted values: the ceil(q n)-th smallest.
fn nearest_rank(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Commits whose pull-request checks ran on a hotfix branch.
fn hotfix_commits(
    history: &History,
    settings: &DeliverySettings,
) -> BTreeSet<(Option<String>, String)> {
    history
        .runs
        .iter()
        .filter(|r| settings.is_hotfix_branch(r.branch.as_deref()))
        .map(|r| (r.repo.clone(), r.commit.clone()))
        .collect()
}
