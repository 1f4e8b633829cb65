//! The plan holds every planted fact on any seed, the truth's numbers agree with each
//! other and with the definitions, and the bytes carry each emitter's keys.

use std::collections::{BTreeMap, BTreeSet};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::Value;

use super::plan::{self, JobResult, PlannedRun, RepoPlan, Trigger};
use super::*;
use crate::synth::{SynthConfig, generate as synth_generate};

const DAY_NS: i64 = 86_400 * 1_000_000_000;
const SEEDS: [u64; 6] = [0, 1, 2, 3, 11, 42];

fn plans(seed: u64) -> Vec<RepoPlan> {
    let cfg = SynthConfig::small_test(seed);
    REPOS
        .iter()
        .enumerate()
        .map(|(i, repo)| {
            let mut rng = SmallRng::seed_from_u64(cfg.seed ^ 0xde11_7e4e_0000_0000 ^ i as u64);
            plan::plan_repo(repo, &mut rng, cfg.start / 1_000)
        })
        .collect()
}

fn truth_of(seed: u64) -> DeliveryTruth {
    generate(&SynthConfig::small_test(seed)).truth
}

fn change<'a>(t: &'a DeliveryTruth, repo: &str, commit: &str) -> &'a ChangeTruth {
    t.changes
        .iter()
        .find(|c| c.repo == repo && c.commit == commit)
        .unwrap_or_else(|| panic!("no change {repo} {commit}"))
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let a = generate(&SynthConfig::small_test(5));
    let b = generate(&SynthConfig::small_test(5));
    let c = generate(&SynthConfig::small_test(6));
    assert_eq!(a.files, b.files);
    assert_eq!(a.truth, b.truth);
    assert_ne!(a.files, c.files);
}

#[test]
fn every_planted_fact_holds_on_every_seed() {
    for seed in SEEDS {
        let t = truth_of(seed);
        for repo in REPOS.iter().map(|r| r.name) {
            let p = &t.planted[repo];
            let of_repo: Vec<&ChangeTruth> = t.changes.iter().filter(|c| c.repo == repo).collect();
            assert!(
                (20..=40).contains(&of_repo.len()),
                "{repo}: {}",
                of_repo.len()
            );

            let never = of_repo
                .iter()
                .find(|c| c.pr.as_deref() == Some(p.never_merged_pr.as_str()))
                .unwrap_or_else(|| panic!("{repo}: no never-merged PR"));
            assert!(never.merge_ns.is_none() && never.deployed_ns.is_empty());
            assert!(never.lead_time_ns.is_none());

            let direct = change(&t, repo, &p.no_pr_commit);
            assert!(
                direct.pr.is_none() && direct.lead_time_ns.is_some(),
                "{direct:?}"
            );
            assert_eq!(direct.merge_ns, Some(direct.first_ci_start_ns));

            assert!(!p.deployed_by_later_commit.is_empty(), "{repo} seed {seed}");
            assert_ne!(p.deployed_by_later_commit, p.deploying_commit);
            let by_later = change(&t, repo, &p.deployed_by_later_commit);
            let deploying = change(&t, repo, &p.deploying_commit);
            assert!(by_later.merge_ns < deploying.merge_ns);
            // Releases are batched: most changes reach production through another
            // commit's deployment.
            let plan = plans(seed)
                .into_iter()
                .find(|p| p.repo.name == repo)
                .expect("plan");
            let deployer: BTreeMap<i64, String> = plan
                .runs
                .iter()
                .flat_map(|r| {
                    r.jobs
                        .iter()
                        .filter(|j| j.result == JobResult::Success)
                        .filter(|j| j.target.as_ref().is_some_and(|t| t.env == "production"))
                        .map(|j| (j.end_us * 1_000, r.commit.clone()))
                })
                .collect();
            let deployed: Vec<_> = of_repo
                .iter()
                .filter(|c| c.lead_time_ns.is_some())
                .collect();
            let by_other = deployed
                .iter()
                .filter(|c| deployer[&c.deployed_ns["production"]] != c.commit)
                .count();
            assert!(deployed.len() >= 15, "{repo}: {}", deployed.len());
            assert!(
                2 * by_other > deployed.len(),
                "{repo}: {by_other} of {}",
                deployed.len()
            );

            let d = &t.dora[repo];
            assert_eq!(d.failed_deployments, 2, "{repo} seed {seed}: {d:?}");
            assert_eq!(d.restore_ns.len(), 2);
            assert!(d.restore_ns.iter().all(|&r| r > 0 && r < DAY_NS), "{d:?}");
            assert!(d.deployments >= 8 && d.successful_deployments == d.deployments - 1);
            assert_eq!(d.change_failure_rate, 2.0 / d.deployments as f64);
            assert!(d.deployment_days <= d.successful_deployments);
            assert!(d.lead_time_median_ns <= d.lead_time_p90_ns);
            assert!(!p.failed_deployment_commit.is_empty() && !p.rollback_commit.is_empty());
            assert!(
                change(&t, repo, &p.failed_deployment_commit)
                    .lead_time_ns
                    .is_some()
            );
            assert!(change(&t, repo, &p.rollback_commit).lead_time_ns.is_some());
        }
        for (pipeline, p) in &t.platform {
            assert!(p.failed_runs >= p.platform_failed_runs, "{pipeline}");
            assert!(p.lost_ns >= p.platform_lost_ns && p.platform_lost_ns >= 0);
        }
        for ci in ["CI", "payments"] {
            let p = &t.platform[ci];
            assert!(p.platform_failed_runs >= 2, "{ci}: {p:?}");
            assert!(p.failed_runs >= p.platform_failed_runs + 3, "{ci}: {p:?}");
            assert!(p.platform_lost_ns > 0 && p.lost_ns > p.platform_lost_ns);
        }
        assert_eq!(t.platform["Deploy"].platform_failed_runs, 0);
    }
}

/// Every rollback in the plan is a production deployment of an older merged commit
/// within 24 h of the deployment it undoes.
#[test]
fn the_rollback_follows_within_a_day() {
    for seed in SEEDS {
        let t = truth_of(seed);
        for plan in plans(seed) {
            let repo = plan.repo.name;
            let rollback = &t.planted[repo].rollback_commit;
            let prod: Vec<(&PlannedRun, i64)> = plan
                .runs
                .iter()
                .flat_map(|r| {
                    r.jobs
                        .iter()
                        .filter(|j| j.target.as_ref().is_some_and(|t| t.env == "production"))
                        .filter(|j| j.result == JobResult::Success)
                        .map(move |j| (r, j.end_us))
                })
                .collect();
            let i = prod
                .iter()
                .rposition(|(r, _)| &r.commit == rollback)
                .unwrap_or_else(|| panic!("{repo}: rollback not deployed"));
            let (back, back_end) = prod[i];
            let (undone, undone_end) = prod[i - 1];
            assert_eq!(back.trigger, Trigger::Manual);
            assert!(back_end - undone_end < 24 * 3_600 * 1_000_000);
            let merge = |c: &str| change(&t, repo, c).merge_ns;
            assert!(merge(&back.commit) < merge(&undone.commit));
        }
    }
}

#[test]
fn the_truth_follows_the_definitions() {
    for seed in SEEDS {
        let t = truth_of(seed);
        assert_eq!(t.window_end_ns - t.window_start_ns, 30 * DAY_NS);
        for c in &t.changes {
            assert!(c.first_ci_start_ns >= t.window_start_ns);
            assert_eq!(
                c.lead_time_ns,
                c.deployed_ns
                    .get("production")
                    .map(|e| e - c.first_ci_start_ns),
                "{c:?}"
            );
            if let Some(m) = c.merge_ns {
                assert!(m >= c.first_ci_start_ns);
                assert!(c.deployed_ns.values().all(|&e| e > m), "{c:?}");
            } else {
                assert!(c.deployed_ns.is_empty(), "{c:?}");
            }
            if let (Some(s), Some(p)) = (
                c.deployed_ns.get("staging"),
                c.deployed_ns.get("production"),
            ) {
                assert!(s < p, "{c:?}");
            }
            assert!(c.deployed_ns.values().all(|&e| e < t.window_end_ns));
        }
        for (repo, d) in &t.dora {
            let mut leads: Vec<i64> = t
                .changes
                .iter()
                .filter(|c| &c.repo == repo)
                .filter_map(|c| c.lead_time_ns)
                .collect();
            leads.sort_unstable();
            let n = leads.len();
            let median = if n % 2 == 1 {
                leads[n / 2]
            } else {
                (leads[n / 2 - 1] + leads[n / 2]) / 2
            };
            assert_eq!(d.lead_time_median_ns, Some(median));
            assert_eq!(d.lead_time_p90_ns, Some(leads[(9 * n).div_ceil(10) - 1]));
            let weeks = 30.0 / 7.0;
            assert_eq!(
                d.deployments_per_week,
                d.successful_deployments as f64 / weeks
            );
            let mut restore = d.restore_ns.clone();
            restore.sort_unstable();
            assert_eq!(d.restore_median_ns, Some((restore[0] + restore[1]) / 2));
        }
    }
}

/// Every run is tallied into the synth Truth, and the pipeline counts agree with the
/// platform truth.
#[test]
fn the_runs_count_in_the_synth_truth() {
    let mut cfg = SynthConfig::small_test(1);
    let with = synth_generate(&cfg);
    cfg.delivery = false;
    let without = synth_generate(&cfg);
    let d = with.truth.delivery.as_ref().expect("delivery truth");
    assert!(without.truth.delivery.is_none());
    let runs: u64 = d.platform.values().map(|p| p.runs).sum();
    assert_eq!(with.truth.traces, without.truth.traces + runs);
    for (pipeline, p) in &d.platform {
        assert_eq!(with.truth.pipeline_runs[pipeline], (p.runs, p.failed_runs));
    }
    assert!(with.truth.branch_runs["main"].0 > without.truth.branch_runs["main"].0);
    assert_eq!(with.truth.flaky_tests, without.truth.flaky_tests);
    assert_eq!(with.truth.test_stats, without.truth.test_stats);
    // The rest of the month is byte-identical.
    for f in &without.files {
        assert!(with.files.contains(f), "{} changed", f.0);
    }
}

/// (span name, attributes with the resource's) of every span in a JSON-lines file.
fn spans_of(bytes: &[u8]) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).expect("JSON line");
        for rs in v["resourceSpans"].as_array().expect("resourceSpans") {
            let kv = |list: &Value| -> Vec<(String, String)> {
                list.as_array()
                    .into_iter()
                    .flatten()
                    .map(|kv| {
                        let value = kv["value"].as_object().and_then(|o| o.values().next());
                        let text = match value {
                            Some(Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                            None => String::new(),
                        };
                        (kv["key"].as_str().unwrap_or_default().to_string(), text)
                    })
                    .collect()
            };
            let res = kv(&rs["resource"]["attributes"]);
            for ss in rs["scopeSpans"].as_array().expect("scopeSpans") {
                for s in ss["spans"].as_array().expect("spans") {
                    let mut attrs: BTreeMap<String, String> = res.iter().cloned().collect();
                    attrs.extend(kv(&s["attributes"]));
                    out.push((s["name"].as_str().unwrap_or_default().to_string(), attrs));
                }
            }
        }
    }
    out
}

#[test]
fn each_emitter_writes_its_conventions() {
    let out = generate(&SynthConfig::small_test(2));
    let file = |name: &str| {
        let (_, bytes) = out.files.iter().find(|(n, _)| n == name).expect(name);
        spans_of(bytes)
    };
    let has = |spans: &[(String, BTreeMap<String, String>)], key: &str, value: Option<&str>| {
        spans
            .iter()
            .any(|(_, a)| a.get(key).is_some_and(|v| value.is_none_or(|x| x == v)))
    };
    let gh = file("otlp-lines-delivery-github.jsonl");
    for key in [
        "github.workflow",
        "github.run_id",
        "github.run_attempt",
        "github.head_branch",
        "github.head_sha",
        "github.conclusion",
        "github.pull_requests.0.number",
        "github.pull_requests.0.base.ref",
        "github.base_ref",
        "github.job.name",
        "github.job.conclusion",
        "service.namespace",
    ] {
        assert!(has(&gh, key, None), "GitHub: no {key}");
    }
    for (key, value) in [
        ("github.event", "pull_request"),
        ("github.event", "push"),
        ("github.event", "workflow_dispatch"),
        ("github.conclusion", "startup_failure"),
        ("github.conclusion", "cancelled"),
        ("github.job.conclusion", "skipped"),
        ("github.job.conclusion", "cancelled"),
        ("cicd.pipeline.task.type", "deploy"),
        ("deployment.environment.name", "integration"),
        ("deployment.environment.name", "Production"),
    ] {
        assert!(has(&gh, key, Some(value)), "GitHub: no {key}={value}");
    }
    let staging: Vec<_> = gh.iter().filter(|(n, _)| n == "deploy-staging").collect();
    assert!(!staging.is_empty());
    assert!(
        staging
            .iter()
            .all(|(_, a)| a.keys().all(|k| !k.contains("environment")))
    );

    let gl = file("otlp-lines-delivery-gitlab.jsonl");
    for key in [
        "cicd.pipeline.name",
        "cicd.pipeline.run.id",
        "cicd.pipeline.result",
        "cicd.pipeline.task.name",
        "cicd.pipeline.task.run.result",
        "vcs.ref.head.name",
        "vcs.ref.head.revision",
        "vcs.repository.name",
        "vcs.change.id",
        "vcs.change.title",
        "vcs.ref.base.name",
    ] {
        assert!(has(&gl, key, None), "GitLab: no {key}");
    }
    for (key, value) in [
        ("gitlab.pipeline.source", "merge_request_event"),
        ("gitlab.pipeline.source", "push"),
        ("gitlab.pipeline.source", "schedule"),
        ("gitlab.pipeline.source", "web"),
        ("cicd.pipeline.task.run.result", "failed"),
        ("cicd.pipeline.task.run.result", "canceled"),
        ("cicd.pipeline.task.run.result", "skipped"),
        ("cicd.pipeline.task.run.environment.name", "integration"),
        ("cicd.pipeline.task.run.environment.name", "production"),
        ("deployment.environment", "staging"),
    ] {
        assert!(has(&gl, key, Some(value)), "GitLab: no {key}={value}");
    }
    // Merge-request keys only on MR pipelines.
    for (_, a) in &gl {
        let mr = a.get("gitlab.pipeline.source").map(String::as_str) == Some("merge_request_event");
        assert_eq!(a.contains_key("vcs.change.id"), mr, "{a:?}");
    }
    let repos: BTreeSet<&str> = gl
        .iter()
        .chain(&gh)
        .filter_map(|(_, a)| a.get("vcs.repository.name").or(a.get("service.namespace")))
        .map(String::as_str)
        .collect();
    assert_eq!(repos, BTreeSet::from(["acme/payments", "acme/storefront"]));
}
