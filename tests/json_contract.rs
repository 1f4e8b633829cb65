//! The JSON contract of every analysis, byte for byte, on the demo store (fixed seed,
//! fixed dates). These snapshots were taken before the architecture rework and must
//! not move unless the contract changes on purpose (then `schema_version` does too).

mod common;

use std::sync::OnceLock;

use common::Env;

/// The demo store, built once for every test of this file.
fn demo_store() -> &'static Env {
    static STORE: OnceLock<Env> = OnceLock::new();
    STORE.get_or_init(|| {
        let env = Env::new();
        let data = env.data().display().to_string();
        let (code, _, stderr) = env.run(&["demo", "--keep", &data]);
        assert_eq!(code, 0, "demo failed: {stderr}");
        env
    })
}

/// Runs `args` with `--format json` on the demo store and snapshots stdout under `name`.
fn contract(name: &str, args: &[&str]) {
    let env = demo_store();
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = env.run(&all);
    assert!(
        code == 0 || (args[0] == "gate" && code == 1),
        "pipescope {all:?} exited {code}: {stderr}"
    );
    insta::assert_snapshot!(name, stdout);
}

#[test]
fn flaky() {
    contract("flaky", &["flaky"]);
    contract("flaky_all", &["flaky", "--all", "--branch", "main"]);
}

#[test]
fn failures() {
    contract("failures_branch", &["failures"]);
    contract(
        "failures_pipeline_week",
        &["failures", "--by", "pipeline", "--bucket", "week"],
    );
    contract("failures_task", &["failures", "--by", "task"]);
    contract("failures_cause", &["failures", "--by", "cause"]);
    contract(
        "failures_test_day",
        &[
            "failures",
            "--by",
            "test",
            "--bucket",
            "day",
            "--since",
            "2025-06-25",
        ],
    );
}

#[test]
fn bottlenecks() {
    contract("bottlenecks_task", &["bottlenecks"]);
    contract(
        "bottlenecks_step",
        &["bottlenecks", "--by", "step", "--limit", "15"],
    );
}

#[test]
fn compare() {
    contract("compare_flaky", &["compare", "--flaky", "--limit", "4"]);
    contract(
        "compare_test",
        &["compare", "--test", "test_upload_large_file"],
    );
}

#[test]
fn sql() {
    contract(
        "sql_runs_by_branch",
        &[
            "sql",
            "SELECT branch, count(*) AS runs FROM pipeline_runs GROUP BY branch ORDER BY branch",
        ],
    );
}

#[test]
fn gate() {
    contract(
        "gate_window",
        &[
            "gate",
            "--current",
            "branch=main,since=2025-06-24",
            "--baseline",
            "branch=main,since=2025-06-01,until=2025-06-24",
        ],
    );
}

#[test]
fn report() {
    contract(
        "report",
        &[
            "report",
            "--since",
            "3d",
            "--baseline",
            "20d",
            "--now",
            "2025-07-01T00:00:00Z",
        ],
    );
}
