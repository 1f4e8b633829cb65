//! `delivery`, `dora` and `failures --by cause` on the synthetic history
//! (`synth --preset test`) against the delivery truth the generator computed from
//! its plan: every change's first CI run, merge, production deployment and lead
//! time; each planted special case (a change deployed by a later commit's
//! deployment, a PR that never merged, a push without a PR, a rollback, a failed
//! production deployment and its restore); each DORA key of both repositories; and
//! the platform's share of the failed runs per pipeline.

mod common;

use std::sync::OnceLock;

use chrono::DateTime;
use common::{Env, synth_test_data};
use serde_json::Value;

/// The truth's window: the synthetic month.
const SINCE: &str = "2025-06-01";
const UNTIL: &str = "2025-07-01";

struct Planted {
    env: Env,
    truth: Value,
}

fn planted() -> &'static Planted {
    static STORE: OnceLock<Planted> = OnceLock::new();
    STORE.get_or_init(|| {
        let env = Env::new();
        let truth = synth_test_data(env.dir.path(), 1);
        let (code, stderr) = env.ingest(&[&env.dir.path().join("traces")]);
        assert_eq!(code, 0, "ingest of the synthetic history failed: {stderr}");
        Planted {
            env,
            truth: truth["delivery"].clone(),
        }
    })
}

fn ns(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// An RFC 3339 time of the output (millisecond precision) as ns.
fn time_ns(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .timestamp_nanos_opt()
        .expect("in range")
}

/// The output prints times to the millisecond, truncated.
fn to_ms(ns: i64) -> i64 {
    ns.div_euclid(1_000_000) * 1_000_000
}

/// Seconds of the output (µs precision) as ns.
fn seconds_ns(v: &Value) -> i64 {
    let s = v.as_f64().unwrap_or_else(|| panic!("not seconds: {v}"));
    (s * 1e6).round() as i64 * 1_000
}

fn truth_changes(truth: &Value) -> &Vec<Value> {
    truth["changes"].as_array().expect("changes")
}

#[test]
fn every_change_reaches_production_when_the_plan_says() {
    let Planted { env, truth } = planted();
    let rows = env.rows(&["delivery", "--since", SINCE]);
    for want in truth_changes(truth) {
        let (repo, commit) = (&want["repo"], &want["commit"]);
        let row = rows
            .iter()
            .find(|r| r["repo"] == *repo && r["commit"] == *commit)
            .unwrap_or_else(|| panic!("{repo} {commit} missing from delivery"));
        assert_eq!(row["pr"], want["pr"], "{row}");
        assert_eq!(
            time_ns(&row["first_ci_run"]),
            to_ms(ns(&want["first_ci_start_ns"])),
            "first CI run of {row}"
        );
        match want["merge_ns"].as_i64() {
            Some(merge) => assert_eq!(time_ns(&row["merged"]), to_ms(merge), "merge of {row}"),
            None => assert_eq!(row["merged"], Value::Null, "{row} never merged"),
        }
        match want["deployed_ns"]["production"].as_i64() {
            Some(prod) => {
                assert_eq!(time_ns(&row["production"]), to_ms(prod), "{row}");
                assert_eq!(
                    seconds_ns(&row["lead_time_s"]),
                    ns(&want["lead_time_ns"]),
                    "lead time of {row}"
                );
            }
            None => {
                assert_eq!(row["production"], Value::Null, "{row}");
                assert_eq!(row["lead_time_s"], Value::Null, "{row}");
            }
        }
    }
    let repos = truth["planted"].as_object().expect("planted");
    assert_eq!(repos.len(), 2, "two delivery repositories: {repos:?}");
    for repo in repos.keys() {
        let found = rows.iter().filter(|r| r["repo"] == repo.as_str()).count();
        let planned = truth_changes(truth)
            .iter()
            .filter(|c| c["repo"] == repo.as_str())
            .count();
        assert_eq!(found, planned, "{repo}: changes found vs planned");
    }
}

/// One change's waterfall: the end of its `deploy to <env>` stage per environment,
/// and the commit whose deployment carried it there when that was a later one
/// (`deploy to production (with 1d217408)`).
fn deployed_ends(env: &Env, commit: &str) -> Vec<(String, i64, Option<String>)> {
    env.rows(&["delivery", "--commit", commit])
        .iter()
        .filter_map(|r| {
            let stage = r["stage"].as_str()?;
            let target = stage.strip_prefix("deploy to ")?;
            let (target, with) = match target.split_once(" (with ") {
                Some((t, w)) => (t, Some(w.trim_end_matches(')').to_string())),
                None => (target, None),
            };
            Some((target.to_string(), time_ns(&r["end"]), with))
        })
        .collect()
}

#[test]
fn the_planted_special_changes_have_their_paths() {
    let Planted { env, truth } = planted();
    for (repo, cases) in truth["planted"].as_object().expect("planted") {
        let change = |commit: &Value| {
            truth_changes(truth)
                .iter()
                .find(|c| c["repo"] == repo.as_str() && c["commit"] == *commit)
                .unwrap_or_else(|| panic!("{repo} {commit} not in the truth"))
        };
        // Deployed by a later commit's deployment: the same production time as that
        // commit, and every environment's time from the waterfall.
        let later = change(&cases["deployed_by_later_commit"]);
        let deploying = change(&cases["deploying_commit"]);
        assert_eq!(
            later["deployed_ns"]["production"], deploying["deployed_ns"]["production"],
            "{repo}: the plan deploys both at once"
        );
        for case in [
            "deployed_by_later_commit",
            "no_pr_commit",
            "rollback_commit",
        ] {
            let want = change(&cases[case]);
            let commit = want["commit"].as_str().expect("commit");
            let ends = deployed_ends(env, commit);
            for (target, end) in want["deployed_ns"].as_object().expect("deployed") {
                let found = ends.iter().find(|(t, _, _)| t == target);
                assert_eq!(
                    found.map(|(_, e, _)| *e),
                    Some(to_ms(ns(end))),
                    "{repo} {case} {commit}: deploy to {target} in {ends:?}"
                );
            }
        }
        let deploying_commit = deploying["commit"].as_str().expect("commit");
        let later_commit = later["commit"].as_str().expect("commit");
        let carried_by = deployed_ends(env, later_commit)
            .into_iter()
            .find(|(t, _, _)| t == "production")
            .and_then(|(_, _, with)| with);
        assert!(
            carried_by.is_some_and(|w| deploying_commit.starts_with(&w)),
            "{repo}: {later_commit} reached production with {deploying_commit}"
        );
        // The push without a PR has no PR and still a lead time.
        let no_pr = change(&cases["no_pr_commit"]);
        assert_eq!(no_pr["pr"], Value::Null);
        assert!(no_pr["lead_time_ns"].is_i64(), "{no_pr}");
        // The PR that never merged: listed, no merge and no lead time, no error.
        let pr = cases["never_merged_pr"].as_str().expect("pr");
        let (code, stdout, stderr) = env.run(&["delivery", "--change", pr, "--format", "json"]);
        assert_eq!(code, 0, "{stderr}");
        let out: Value = serde_json::from_str(&stdout).expect("json");
        let stages: Vec<&str> = out["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["stage"].as_str())
            .collect();
        assert!(
            stages.iter().any(|s| s.contains("checks")),
            "{repo} #{pr}: {stages:?}"
        );
        assert!(
            !stages.iter().any(|s| s.starts_with("deploy to")),
            "{repo} #{pr} never merged, never deployed: {stages:?}"
        );
    }
}

#[test]
fn the_dora_keys_are_the_planted_ones() {
    let Planted { env, truth } = planted();
    let rows = env.rows(&["dora", "--since", SINCE, "--until", UNTIL]);
    for (repo, want) in truth["dora"].as_object().expect("dora") {
        let key = |k: &str| {
            rows.iter()
                .find(|r| r["group"] == repo.as_str() && r["key"] == k)
                .unwrap_or_else(|| panic!("{repo} {k} missing: {rows:?}"))
        };
        assert_eq!(
            key("deployment_frequency")["value"],
            want["deployments_per_week"],
            "{repo}"
        );
        assert_eq!(
            key("deployment_days")["value"],
            want["deployment_days_per_week"],
            "{repo}"
        );
        let shown = key("deployment_frequency")["shown"].as_str().unwrap_or("");
        let counts = format!(
            "{} deployments on {} days",
            want["successful_deployments"], want["deployment_days"]
        );
        assert!(shown.contains(&counts), "{repo}: {shown} vs {counts}");
        assert_eq!(
            key("change_failure_rate")["value"],
            want["change_failure_rate"],
            "{repo}"
        );
        let of = format!(
            "({} of {})",
            want["failed_deployments"], want["deployments"]
        );
        let shown = key("change_failure_rate")["shown"].as_str().unwrap_or("");
        assert!(shown.contains(&of), "{repo}: {shown} vs {of}");
        for (k, truth_key) in [
            ("lead_time_median", "lead_time_median_ns"),
            ("lead_time_p90", "lead_time_p90_ns"),
        ] {
            assert_eq!(
                seconds_ns(&key(k)["value"]),
                ns(&want[truth_key]),
                "{repo} {k}"
            );
        }
        // The restore median can fall on half a microsecond.
        let restore = key("time_to_restore_median")["value"]
            .as_f64()
            .expect("seconds");
        let want_restore = ns(&want["restore_median_ns"]) as f64 / 1e9;
        assert!(
            (restore - want_restore).abs() < 1e-6,
            "{repo}: restore {restore} vs {want_restore}"
        );
        let restored = want["restore_ns"].as_array().expect("restores").len();
        let shown = key("time_to_restore_median")["shown"]
            .as_str()
            .unwrap_or("");
        assert!(
            shown.contains(&format!("{restored} restored")),
            "{repo}: {shown}"
        );
    }
}

#[test]
fn the_platform_share_is_the_planted_one() {
    let Planted { env, truth } = planted();
    let rows = env.rows(&[
        "failures", "--by", "cause", "--since", SINCE, "--until", UNTIL,
    ]);
    for (pipeline, want) in truth["platform"].as_object().expect("platform") {
        let row = rows
            .iter()
            .find(|r| r["pipeline"] == pipeline.as_str())
            .unwrap_or_else(|| panic!("{pipeline} missing: {rows:?}"));
        assert_eq!(row["failed_runs"], want["failed_runs"], "{pipeline}");
        assert_eq!(
            row["platform_runs"], want["platform_failed_runs"],
            "{pipeline}"
        );
        // Lost time is printed to the millisecond.
        for (field, truth_field) in [
            ("lost_s", "lost_ns"),
            ("platform_lost_s", "platform_lost_ns"),
        ] {
            let found = row[field].as_f64().expect("seconds");
            let planned = ns(&want[truth_field]) as f64 / 1e9;
            assert!(
                (found - planned).abs() < 0.001,
                "{pipeline} {field}: {found} vs {planned}"
            );
        }
    }
}

#[test]
fn the_report_shows_the_path_to_production() {
    let Planted { env, truth } = planted();
    // A nightly report of the month's last day: its DORA keys cover the 30 days up to
    // its end, the month of the truth.
    let report_args = ["report", "--since", "2025-06-30", "--until", UNTIL];
    let (code, stdout, stderr) = env.run(&[&report_args[..], &["--format", "json"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("report JSON");
    let part = &report["report"]["path_to_production"];
    let dora = env.rows(&["dora", "--since", SINCE, "--until", UNTIL]);
    assert_eq!(
        part["dora"],
        Value::Array(dora),
        "the report's keys are dora's"
    );

    let latest_truth = truth_changes(truth)
        .iter()
        .filter_map(|c| Some((c["deployed_ns"]["production"].as_i64()?, c)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, c)| c)
        .expect("a change reached production");
    let latest = &part["latest"];
    assert_eq!(
        time_ns(&latest["change"]["production"]),
        to_ms(ns(&latest_truth["deployed_ns"]["production"])),
        "{latest}"
    );
    let commit = latest["change"]["commit"].as_str().expect("commit");
    assert_eq!(
        latest["stages"],
        Value::Array(env.rows(&["delivery", "--commit", commit])),
        "the report's waterfall is delivery's"
    );
    assert!(
        latest["headline"]
            .as_str()
            .is_some_and(|h| h.contains(commit) && h.contains("reached production")),
        "{latest}"
    );

    let (code, html, stderr) = env.run(&report_args);
    assert_eq!(code, 0, "{stderr}");
    let part = &html[html.find("<h2>Path to production</h2>").expect("the part")..];
    assert!(part.contains("id=\"change-waterfall\""), "an SVG waterfall");
    for band in ["elite", "high", "medium", "low"] {
        let planted_band = report["report"]["path_to_production"]["dora"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["band"] == band);
        assert_eq!(
            part.contains(&format!("class=\"band {band}\"")),
            planted_band,
            "{band}"
        );
    }
    let (code, md, _) = env.run(&[&report_args[..], &["--format", "markdown"]].concat());
    assert_eq!(code, 0);
    let part = &md[md.find("## Path to production").expect("the part")..];
    assert!(
        part.contains("| acme/payments | Change failure rate |"),
        "{part}"
    );
    assert!(part.contains("The latest change in production:"), "{part}");
}
