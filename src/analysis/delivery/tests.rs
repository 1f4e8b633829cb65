//! The path to production and the DORA keys on a small history built by hand, every
//! number worked out below.
//!
//! Repository `r`, hours from a UTC midnight:
//! - c1: pull request 1 checked 0–0.5 h and again 1–1.5 h, merged by the main run at
//!   3 h, deployed to staging at 4–4.2 h, reaches production with c2's deployment;
//! - c2: pushed straight to main at 5 h (no pull request), deployed to production
//!   8–8.5 h (deployment D1), which also carries c1;
//! - c3: pull request 3, checked at 6 h, never merged;
//! - c4: pull request 4 from `hotfix/pay`, checked at 30 h, merged at 31 h; its
//!   production deployment fails (D2, 32–32.5 h), the next succeeds (D3, 33–33.5 h);
//! - D4, 34–34.2 h, deploys c2 again: a rollback 0.7 h after D3, so D3 failed too.

use super::changes::paths;
use super::dora::{Band, DoraBy, Period, judge, keys};
use super::history::{Deployment, History, Run};
use super::settings::DeliverySettings;
use super::stages::stages;

const H: i64 = 3_600 * 1_000_000_000;
/// 2025-06-01T00:00:00Z.
const T0: i64 = 1_748_736_000_000_000_000;

fn at(hours: f64) -> i64 {
    T0 + (hours * H as f64) as i64
}

fn run(commit: &str, branch: &str, trigger: &str, pr: Option<&str>, from: f64, to: f64) -> Run {
    Run {
        run_key: format!("{commit}-{from}"),
        repo: Some("r".into()),
        pipeline: Some("ci".into()),
        branch: Some(branch.into()),
        commit: commit.into(),
        trigger: Some(trigger.into()),
        change_id: pr.map(str::to_string),
        start_ns: at(from),
        end_ns: at(to),
        ..Run::default()
    }
}

fn deploy(commit: &str, env: &str, from: f64, to: f64, failed: bool) -> Deployment {
    Deployment {
        run_key: format!("deploy-{commit}-{from}"),
        repo: Some("r".into()),
        pipeline: Some("deploy".into()),
        branch: Some("main".into()),
        commit: Some(commit.into()),
        environment: env.into(),
        job: format!("deploy-{env}"),
        start_ns: at(from),
        end_ns: at(to),
        failed,
    }
}

fn history() -> History {
    History {
        runs: vec![
            run("c1", "feat-1", "pull_request", Some("1"), 0.0, 0.5),
            run("c1", "feat-1", "pull_request", Some("1"), 1.0, 1.5),
            run("c1", "main", "push", None, 3.0, 3.5),
            run("c2", "main", "push", None, 5.0, 5.5),
            run("c3", "feat-3", "pull_request", Some("3"), 6.0, 6.5),
            run("c4", "hotfix/pay", "pull_request", Some("4"), 30.0, 30.5),
            run("c4", "main", "push", None, 31.0, 31.5),
        ],
        deployments: vec![
            deploy("c1", "staging", 4.0, 4.2, false),
            deploy("c2", "production", 8.0, 8.5, false),
            deploy("c4", "production", 32.0, 32.5, true),
            deploy("c4", "production", 33.0, 33.5, false),
            deploy("c2", "production", 34.0, 34.2, false),
        ],
    }
}

#[test]
fn each_change_reaches_production_with_the_first_deployment_that_includes_it() {
    let s = DeliverySettings::default();
    let p = paths(&history(), &s);
    let by = |c: &str| p.iter().find(|x| x.commit == c).unwrap();

    let c1 = by("c1");
    assert_eq!(c1.pr.as_deref(), Some("1"));
    assert_eq!(c1.pr_checks, Some((at(0.0), at(1.5))));
    assert_eq!(c1.merge.as_ref().map(|m| m.start_ns), Some(at(3.0)));
    let envs: Vec<(&str, Option<&str>)> = c1
        .reached
        .iter()
        .map(|r| (r.environment.as_str(), r.deployed_commit.as_deref()))
        .collect();
    assert_eq!(
        envs,
        [("staging", Some("c1")), ("production", Some("c2"))],
        "c2's deployment carries it"
    );
    assert_eq!(c1.lead_time_ns, Some(at(8.5) - at(0.0)));

    let c2 = by("c2");
    assert_eq!(c2.pr, None, "no pull request, not an error");
    assert_eq!(c2.pr_checks, None);
    assert_eq!(c2.lead_time_ns, Some(at(8.5) - at(5.0)));
    assert_eq!(
        c2.reached.len(),
        1,
        "staging deployed only c1, before c2 merged"
    );

    let c3 = by("c3");
    assert_eq!(c3.merge, None);
    assert!(c3.reached.is_empty());
    assert_eq!(c3.lead_time_ns, None, "never merged: no lead time");

    let c4 = by("c4");
    assert_eq!(c4.branch.as_deref(), Some("hotfix/pay"));
    assert_eq!(
        c4.production(&s).map(|r| r.end_ns),
        Some(at(33.5)),
        "the failed deployment did not deliver it"
    );
    assert_eq!(c4.lead_time_ns, Some(at(33.5) - at(30.0)));
}

#[test]
fn a_deployment_from_a_branch_before_its_merge_carries_only_itself() {
    let mut h = history();
    // c4's branch deployed to staging before c4 merged: c1 and c2 (merged earlier) are
    // on main, not necessarily on that branch.
    h.deployments.push(Deployment {
        branch: Some("hotfix/pay".into()),
        ..deploy("c4", "staging", 30.6, 30.8, false)
    });
    let p = paths(&h, &DeliverySettings::default());
    let c2 = p.iter().find(|x| x.commit == "c2").unwrap();
    assert!(c2.reached.iter().all(|r| r.environment != "staging"));
    let c4 = p.iter().find(|x| x.commit == "c4").unwrap();
    assert_eq!(c4.reached[0].environment, "staging");
    assert_eq!(c4.reached[0].end_ns, at(30.8));
}

#[test]
fn the_waterfall_of_a_change_alternates_work_and_waiting() {
    let p = paths(&history(), &DeliverySettings::default());
    let c1 = p.iter().find(|x| x.commit == "c1").unwrap();
    let got: Vec<(String, String, i64, i64)> = stages(c1)
        .into_iter()
        .map(|s| (s.stage, s.kind, s.start_ns, s.end_ns))
        .collect();
    let want = [
        ("pull request #1 checks", "run", 0.0, 1.5),
        ("review and merge", "wait", 1.5, 3.0),
        ("merged: ci on the default branch", "run", 3.0, 3.5),
        ("waiting for staging", "wait", 3.5, 4.0),
        ("deploy to staging", "run", 4.0, 4.2),
        ("waiting for production", "wait", 4.2, 8.0),
        ("deploy to production (with c2)", "run", 8.0, 8.5),
    ]
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), at(c), at(d)));
    assert_eq!(got, want);
}

#[test]
fn failed_deployments_are_failed_jobs_and_rolled_back_ones() {
    let h = history();
    let s = DeliverySettings::default();
    let judged: Vec<(f64, Option<&str>, Option<i64>)> = judge(&h, &s)
        .iter()
        .map(|j| {
            (
                (j.deployment.start_ns - T0) as f64 / H as f64,
                j.failure,
                j.restored_ns,
            )
        })
        .collect();
    assert_eq!(
        judged,
        [
            (8.0, None, None),
            (32.0, Some("job failed"), Some(at(33.5))),
            (33.0, Some("rolled back"), Some(at(34.2))),
            (34.0, None, None),
        ]
    );
}

#[test]
fn the_four_keys_of_the_window() {
    let h = history();
    let s = DeliverySettings::default();
    let p = paths(&h, &s);
    let window = Period {
        start_ns: T0,
        end_ns: T0 + 48 * H,
    };
    let k = keys(&judge(&h, &s), &p, &s, DoraBy::Repo, window);
    let r = &k["r"];
    assert_eq!(r.deployments, 3);
    assert_eq!(r.deployment_days, 2);
    assert!(
        (r.deployments_per_week - 10.5).abs() < 1e-9,
        "3 in 2/7 of a week"
    );
    assert!((r.deployment_days_per_week - 7.0).abs() < 1e-9);
    assert_eq!(
        r.median_deployment_days_per_week, 2.0,
        "one slice: the whole window"
    );
    assert_eq!(r.frequency_band(), Band::High);
    assert_eq!(r.changes, 3);
    assert_eq!(r.lead_time_median_ns, Some(7 * H / 2));
    assert_eq!(r.lead_time_p90_ns, Some(17 * H / 2));
    assert_eq!(r.lead_time_band(), Some(Band::Elite));
    assert_eq!(r.production_deployments, 4);
    assert_eq!(r.failed_deployments, 2);
    assert_eq!(r.change_failure_rate, Some(0.5));
    assert_eq!(r.failure_rate_band(), Some(Band::Low));
    assert_eq!(r.restores, 2);
    assert_eq!(
        r.time_to_restore_median_ns,
        Some(H * 85 / 100),
        "median of 1 h and 0.7 h"
    );
    assert_eq!(r.restore_band(), Some(Band::Elite));

    // The first day alone: D1 only.
    let day0 = keys(
        &judge(&h, &s),
        &p,
        &s,
        DoraBy::Repo,
        Period {
            start_ns: T0,
            end_ns: T0 + 24 * H,
        },
    );
    assert_eq!(day0["r"].deployments, 1);
    assert_eq!(day0["r"].change_failure_rate, Some(0.0));
    assert_eq!(day0["r"].changes, 2, "c1 and c2");
}

#[test]
fn a_hotfix_soon_after_a_deployment_marks_it_failed_and_a_late_one_does_not() {
    let mut h = history();
    h.runs.push(run("c5", "main", "push", None, 40.0, 40.5));
    h.runs
        .push(run("c6", "hotfix/oops", "push", None, 41.0, 41.2));
    h.deployments
        .push(deploy("c5", "production", 42.0, 42.5, false));
    h.deployments.push(Deployment {
        branch: Some("hotfix/oops".into()),
        ..deploy("c6", "production", 43.0, 43.5, false)
    });
    let s = DeliverySettings::default();
    let judged = judge(&h, &s);
    let d5 = judged
        .iter()
        .find(|j| j.deployment.start_ns == at(42.0))
        .unwrap();
    assert_eq!(d5.failure, Some("hotfix followed"));
    assert_eq!(d5.restored_ns, Some(at(43.5)));

    let short = s.clone().with_failure_window("30m").unwrap();
    let judged = judge(&h, &short);
    let d5 = judged
        .iter()
        .find(|j| j.deployment.start_ns == at(42.0))
        .unwrap();
    assert_eq!(d5.failure, None, "the hotfix came an hour later");
}

#[test]
fn bands_follow_devlake() {
    assert_eq!(Band::of_frequency(7.0, 30.0), Band::Elite);
    assert_eq!(Band::of_frequency(1.0, 4.0), Band::High);
    assert_eq!(Band::of_frequency(0.0, 1.0), Band::Medium);
    assert_eq!(Band::of_frequency(0.0, 0.0), Band::Low);
    assert_eq!(Band::of_lead_time(23 * H), Band::Elite);
    assert_eq!(Band::of_lead_time(24 * H), Band::High);
    assert_eq!(Band::of_lead_time(7 * 24 * H), Band::Medium);
    assert_eq!(Band::of_lead_time(30 * 24 * H), Band::Low);
    assert_eq!(Band::of_failure_rate(0.05), Band::Elite);
    assert_eq!(Band::of_failure_rate(0.10), Band::High);
    assert_eq!(Band::of_failure_rate(0.15), Band::Medium);
    assert_eq!(Band::of_failure_rate(0.16), Band::Low);
    assert_eq!(Band::of_restore(59 * 60 * 1_000_000_000), Band::Elite);
    assert_eq!(Band::of_restore(H), Band::High);
    assert_eq!(Band::of_restore(24 * H), Band::Medium);
    assert_eq!(Band::of_restore(7 * 24 * H), Band::Low);
}
