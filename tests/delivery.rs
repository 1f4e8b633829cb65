//! `pipescope delivery` and `pipescope dora` end to end: the same history of changes,
//! written once as the GitHub Actions exporters write it (`github.*` on the workflow
//! span) and once as the Collector's GitLab receiver does (`cicd.*` and `vcs.*` on the
//! resource), ingested as OTLP/JSON; both repositories must give the same paths and
//! the same keys, worked out by hand (the same timeline as the unit tests of
//! `analysis::delivery`):
//!
//! - c1: pull request 1, checked at 0 h and 1 h, merged at 3 h, staging at 4–4.2 h,
//!   production with c2's deployment at 8–8.5 h: lead time 8.5 h;
//! - c2: pushed to main at 5 h without a pull request: lead time 3.5 h;
//! - c3: pull request 3, checked at 6 h, never merged;
//! - c4: pull request 4 from hotfix/pay at 30 h, merged at 31 h; its first production
//!   deployment fails (32–32.5 h), the second succeeds (33–33.5 h): lead time 3.5 h;
//! - at 34–34.2 h c2 is deployed again: a rollback, so the 33 h deployment failed too.
//!
//! Staging is named by a job name only (`deploy-staging`); production by the
//! deployment attribute each emitter uses.

mod common;

use common::Env;
use serde_json::{Value, json};

const H: i64 = 3_600 * 1_000_000_000;
/// 2025-06-01T00:00:00Z.
const T0: i64 = 1_748_736_000_000_000_000;

fn at(hours: f64) -> String {
    (T0 + (hours * H as f64) as i64).to_string()
}

/// A commit id made from a name: its hex bytes repeated to 40 digits.
fn sha(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    hex.repeat(40).chars().take(40).collect()
}

fn kv(pairs: &[(&str, &str)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
        .collect()
}

struct Job<'a> {
    name: &'a str,
    attrs: Vec<(&'a str, String)>,
    from: f64,
    to: f64,
    failed: bool,
}

/// One run as one OTLP/JSON line: a root span with `root` attributes and the jobs
/// below it (under a stage span for GitLab).
fn line(
    trace: u32,
    resource: &[(&str, &str)],
    root_name: &str,
    root: &[(&str, &str)],
    jobs: &[Job],
    stage: bool,
) -> String {
    let trace_id = format!("{trace:032x}");
    let id = |n: u32| format!("{:016x}", trace * 100 + n);
    let (from, to) = (
        jobs.iter().map(|j| j.from).fold(f64::MAX, f64::min),
        jobs.iter().map(|j| j.to).fold(f64::MIN, f64::max),
    );
    let failed = jobs.iter().any(|j| j.failed);
    let mut spans = vec![json!({
        "traceId": trace_id, "spanId": id(0), "name": root_name,
        "startTimeUnixNano": at(from), "endTimeUnixNano": at(to),
        "attributes": kv(root), "status": {"code": if failed { 2 } else { 1 }},
    })];
    let parent = if stage {
        spans.push(json!({
            "traceId": trace_id, "spanId": id(1), "parentSpanId": id(0), "name": "stage",
            "startTimeUnixNano": at(from), "endTimeUnixNano": at(to),
        }));
        id(1)
    } else {
        id(0)
    };
    for (i, j) in jobs.iter().enumerate() {
        let attrs: Vec<(&str, &str)> = j.attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        spans.push(json!({
            "traceId": trace_id, "spanId": id(2 + i as u32), "parentSpanId": parent,
            "name": j.name, "startTimeUnixNano": at(j.from), "endTimeUnixNano": at(j.to),
            "attributes": kv(&attrs), "status": {"code": if j.failed { 2 } else { 1 }},
        }));
    }
    json!({"resourceSpans": [{
        "resource": {"attributes": kv(resource)},
        "scopeSpans": [{"spans": spans}],
    }]})
    .to_string()
}

/// (commit, branch, pull request, trigger, start, end) of each CI run, and (commit,
/// environment, start, end, failed) of each deployment.
type CiRun = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    f64,
    f64,
);
const RUNS: [CiRun; 7] = [
    ("c1", "feat-1", Some("1"), "pr", 0.0, 0.5),
    ("c1", "feat-1", Some("1"), "pr", 1.0, 1.5),
    ("c1", "main", None, "push", 3.0, 3.5),
    ("c2", "main", None, "push", 5.0, 5.5),
    ("c3", "feat-3", Some("3"), "pr", 6.0, 6.5),
    ("c4", "hotfix/pay", Some("4"), "pr", 30.0, 30.5),
    ("c4", "main", None, "push", 31.0, 31.5),
];
const DEPLOYS: [(&str, &str, f64, f64, bool); 5] = [
    ("c1", "staging", 4.0, 4.2, false),
    ("c2", "production", 8.0, 8.5, false),
    ("c4", "production", 32.0, 32.5, true),
    ("c4", "production", 33.0, 33.5, false),
    ("c2", "production", 34.0, 34.2, false),
];

fn result(failed: bool) -> String {
    if failed { "failure" } else { "success" }.to_string()
}

fn github_history() -> Vec<String> {
    let resource = [
        ("service.name", "otel-cicd-action"),
        ("service.namespace", "acme/web"),
    ];
    let mut lines = Vec::new();
    for (i, (commit, branch, pr, trigger, from, to)) in RUNS.iter().enumerate() {
        let sha = sha(commit);
        let run_id = (1000 + i).to_string();
        let mut root = vec![
            ("github.workflow", "ci"),
            ("github.run_id", run_id.as_str()),
            ("github.head_branch", *branch),
            ("github.head_sha", sha.as_str()),
            (
                "github.event",
                if *trigger == "pr" {
                    "pull_request"
                } else {
                    "push"
                },
            ),
            ("github.conclusion", "success"),
        ];
        if let Some(pr) = pr {
            root.push(("github.pull_requests.0.number", pr));
            root.push(("github.pull_requests.0.base.ref", "main"));
        }
        let job = Job {
            name: "test",
            attrs: vec![
                ("github.job.name", "test".into()),
                ("github.job.conclusion", "success".into()),
            ],
            from: *from,
            to: *to,
            failed: false,
        };
        lines.push(line(1 + i as u32, &resource, "ci", &root, &[job], false));
    }
    for (i, (commit, env, from, to, failed)) in DEPLOYS.iter().enumerate() {
        let sha = sha(commit);
        let run_id = (2000 + i).to_string();
        let root = [
            ("github.workflow", "deploy"),
            ("github.run_id", run_id.as_str()),
            ("github.head_branch", "main"),
            ("github.head_sha", sha.as_str()),
            ("github.event", "workflow_dispatch"),
        ];
        let mut attrs = vec![("github.job.conclusion", result(*failed))];
        let name = if *env == "staging" {
            "deploy-staging"
        } else {
            attrs.push(("cicd.pipeline.task.type", "deploy".into()));
            attrs.push(("deployment.environment.name", "Production".into()));
            "ship"
        };
        attrs.push(("github.job.name", name.into()));
        let job = Job {
            name,
            attrs,
            from: *from,
            to: *to,
            failed: *failed,
        };
        lines.push(line(
            100 + i as u32,
            &resource,
            "deploy",
            &root,
            &[job],
            false,
        ));
    }
    lines
}

fn gitlab_history() -> Vec<String> {
    let mut lines = Vec::new();
    let pipeline =
        |i: usize, commit: &str, branch: &str, source: &str, pr: Option<&str>, name: &str| {
            let mut r: Vec<(String, String)> = vec![
                ("service.name".into(), "gitlab".into()),
                ("cicd.pipeline.name".into(), name.into()),
                ("cicd.pipeline.run.id".into(), (5000 + i).to_string()),
                ("vcs.repository.name".into(), "acme/pay".into()),
                ("vcs.ref.head.name".into(), branch.into()),
                ("vcs.ref.head.revision".into(), sha(commit)),
                ("gitlab.pipeline.source".into(), source.into()),
            ];
            if let Some(pr) = pr {
                r.push(("vcs.change.id".into(), pr.into()));
                r.push(("vcs.ref.base.name".into(), "main".into()));
            }
            r
        };

    for (i, (commit, branch, pr, trigger, from, to)) in RUNS.iter().enumerate() {
        let source = if *trigger == "pr" {
            "merge_request_event"
        } else {
            "push"
        };
        let res = pipeline(i, commit, branch, source, *pr, "pay");
        let job = Job {
            name: "unit",
            attrs: vec![
                ("cicd.pipeline.task.name", "unit".into()),
                ("cicd.pipeline.task.run.result", "success".into()),
            ],
            from: *from,
            to: *to,
            failed: false,
        };
        let root = [("cicd.pipeline.result", "success")];
        lines.push(line(
            300 + i as u32,
            &borrow(&res),
            "pay",
            &root,
            &[job],
            true,
        ));
    }
    for (i, (commit, env, from, to, failed)) in DEPLOYS.iter().enumerate() {
        let res = pipeline(50 + i, commit, "main", "web", None, "pay-deploy");
        let mut attrs = vec![("cicd.pipeline.task.run.result", result(*failed))];
        let name = if *env == "staging" {
            "deploy-staging"
        } else {
            attrs.push(("cicd.pipeline.task.run.environment.name", "prod".into()));
            "release-job"
        };
        attrs.push(("cicd.pipeline.task.name", name.into()));
        let job = Job {
            name,
            attrs,
            from: *from,
            to: *to,
            failed: *failed,
        };
        let root = [(
            "cicd.pipeline.result",
            if *failed { "failed" } else { "success" },
        )];
        lines.push(line(
            400 + i as u32,
            &borrow(&res),
            "pay-deploy",
            &root,
            &[job],
            true,
        ));
    }
    lines
}

fn borrow(r: &[(String, String)]) -> Vec<(&str, &str)> {
    r.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn store() -> Env {
    let env = Env::new();
    let mut lines = github_history();
    lines.extend(gitlab_history());
    let file = env.write("history.jsonl", &(lines.join("\n") + "\n"));
    let (code, stderr) = env.ingest(&[&file]);
    assert_eq!(code, 0, "{stderr}");
    env
}

#[test]
fn both_emitters_give_the_same_paths() {
    let env = store();
    for repo in ["acme/web", "acme/pay"] {
        let rows = env.rows(&["delivery", "--repo", repo]);
        let by = |c: &str| {
            rows.iter()
                .find(|r| r["commit"] == sha(c))
                .unwrap_or_else(|| panic!("{repo} {c}: {rows:?}"))
        };
        assert_eq!(rows.len(), 4, "{repo}: {rows:?}");
        assert_eq!(by("c1")["pr"], "1", "{repo}");
        assert_eq!(by("c1")["lead_time_s"], 8.5 * 3600.0, "{repo}");
        assert_eq!(by("c1")["pr_checks_s"], 1.5 * 3600.0, "{repo}");
        assert_eq!(by("c1")["review_wait_s"], 1.5 * 3600.0, "{repo}");
        assert_eq!(
            by("c1")["path"],
            "merged +3h → staging +4h 12m → production +8h 30m",
            "{repo}"
        );
        assert_eq!(
            by("c2")["pr"],
            Value::Null,
            "{repo}: deployed without a pull request"
        );
        assert_eq!(by("c2")["lead_time_s"], 3.5 * 3600.0, "{repo}");
        assert_eq!(by("c3")["lead_time_s"], Value::Null, "{repo}: never merged");
        assert_eq!(by("c3")["path"], "not merged", "{repo}");
        assert_eq!(by("c4")["lead_time_s"], 3.5 * 3600.0, "{repo}");
        assert_eq!(by("c4")["branch"], "hotfix/pay", "{repo}");
    }
}

#[test]
fn one_change_is_a_waterfall() {
    let env = store();
    let rows = env.rows(&["delivery", "--repo", "acme/pay", "--change", "!1"]);
    let stages: Vec<(&str, &str, f64)> = rows
        .iter()
        .map(|r| {
            (
                r["stage"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["duration_s"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("pull request #1 checks", "run", 1.5 * 3600.0),
            ("review and merge", "wait", 1.5 * 3600.0),
            ("merged: pay on the default branch", "run", 0.5 * 3600.0),
            ("waiting for staging", "wait", 0.5 * 3600.0),
            ("deploy to staging", "run", 0.2 * 3600.0),
            ("waiting for production", "wait", 3.8 * 3600.0),
            ("deploy to production (with 63326332)", "run", 0.5 * 3600.0),
        ]
    );
    let (code, table, stderr) = env.run(&[
        "delivery",
        "--repo",
        "acme/web",
        "--commit",
        &sha("c1")[..12],
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        table.contains("pull request #1, commit")
            && table.contains("reached production 8h 30m after its first CI run"),
        "{table}"
    );
    assert!(table.contains('█') && table.contains('░'), "{table}");
    let (code, _, stderr) = env.run(&["delivery", "--change", "99"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no run in the store checks pull request 99"),
        "{stderr}"
    );
}

#[test]
fn the_dora_keys_of_both_repositories() {
    let env = store();
    let rows = env.rows(&["dora", "--since", "2025-06-01", "--until", "2025-06-03"]);
    for repo in ["acme/web", "acme/pay"] {
        let key = |k: &str| {
            rows.iter()
                .find(|r| r["group"] == repo && r["key"] == k)
                .unwrap_or_else(|| panic!("{repo} {k}: {rows:?}"))
        };
        assert_eq!(
            key("deployment_frequency")["value"],
            10.5,
            "{repo}: 3 in 2 days"
        );
        assert_eq!(key("deployment_frequency")["band"], "high", "{repo}");
        assert_eq!(key("deployment_days")["value"], 7.0, "{repo}");
        assert_eq!(key("lead_time_median")["value"], 3.5 * 3600.0, "{repo}");
        assert_eq!(key("lead_time_median")["band"], "elite", "{repo}");
        assert_eq!(key("lead_time_p90")["value"], 8.5 * 3600.0, "{repo}");
        assert_eq!(key("change_failure_rate")["value"], 0.5, "{repo}");
        assert_eq!(key("change_failure_rate")["band"], "low", "{repo}");
        assert_eq!(
            key("change_failure_rate")["shown"],
            "50 % (2 of 4)",
            "{repo}"
        );
        assert_eq!(
            key("time_to_restore_median")["value"],
            0.85 * 3600.0,
            "{repo}"
        );
        assert_eq!(key("time_to_restore_median")["band"], "elite", "{repo}");
        assert_eq!(
            key("deployment_frequency")["trend"],
            Value::Null,
            "{repo}: nothing before"
        );
    }
    // By deploying pipeline instead: the GitHub deploy workflow and the GitLab one.
    let rows = env.rows(&[
        "dora",
        "--since",
        "2025-06-01",
        "--until",
        "2025-06-03",
        "--by",
        "pipeline",
    ]);
    let groups: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["group"].as_str().unwrap()).collect();
    assert_eq!(
        groups.into_iter().collect::<Vec<_>>(),
        ["deploy", "pay-deploy"]
    );
}

#[test]
fn the_failure_window_and_production_names_are_settings() {
    let env = store();
    // The rollback came 0.7 h after the deployment: a 30-minute window misses it.
    let rows = env.rows(&[
        "dora",
        "--since",
        "2025-06-01",
        "--until",
        "2025-06-03",
        "--repo",
        "acme/web",
        "--failure-window",
        "30m",
    ]);
    let cfr = rows
        .iter()
        .find(|r| r["key"] == "change_failure_rate")
        .unwrap();
    assert_eq!(cfr["value"], 0.25, "{rows:?}");
    // With staging called production, staging deployments count instead.
    let rows = env.rows(&[
        "dora",
        "--since",
        "2025-06-01",
        "--until",
        "2025-06-03",
        "--repo",
        "acme/web",
        "--production",
        "staging",
    ]);
    let f = rows
        .iter()
        .find(|r| r["key"] == "deployment_frequency")
        .unwrap();
    assert_eq!(f["shown"], "3.5/week (1 deployments on 1 days)", "{rows:?}");
}
