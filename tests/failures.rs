//! `pipescope failures` as a user meets it: every output format (the renderers every
//! analysis shares), the groupings and time buckets, filters, and bad arguments.
//! Exact failure rates per branch on planted data are checked in planted_truth.rs.

mod common;

use common::{Env, assert_cli, store_with_runs};
use serde_json::Value;

#[test]
fn output_formats_carry_the_same_rows() {
    let env = store_with_runs(&[("main", "pass"), ("a|b<i>", "fail")]);

    let (_, json, _) = env.run(&["failures", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["query"], "failures");
    assert_eq!(doc["params"]["by"], "branch");
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(2));

    let (_, csv, _) = env.run(&["failures", "--format", "csv"]);
    assert_eq!(
        csv,
        "branch,runs,failed,failure_rate\na|b<i>,1,1,1\nmain,1,0,0\n"
    );

    let (_, md, _) = env.run(&["failures", "--format", "markdown"]);
    assert_eq!(
        md,
        "| branch | runs | failed | failure_rate |\n| --- | --- | --- | --- |\n| a\\|b&lt;i&gt; | 1 | 1 | 1 |\n| main | 1 | 0 | 0 |\n"
    );

    let (_, table, _) = env.run(&["failures"]);
    assert!(
        table.contains("a|b<i>") && table.contains("failure_rate"),
        "{table}"
    );

    assert_cli!("table", env, ["failures"]);
    assert_cli!("json", env, ["failures", "--format", "json"]);
    assert_cli!("csv", env, ["failures", "--format", "csv"]);
    assert_cli!("markdown", env, ["failures", "--format", "markdown"]);
}

#[test]
fn filters_narrow_the_analyses() {
    let env = store_with_runs(&[("main", "pass"), ("dev", "fail")]);
    let rows = env.rows(&["failures", "--branch", "dev"]);
    assert_eq!(
        rows,
        vec![serde_json::json!({"branch": "dev", "runs": 1, "failed": 1, "failure_rate": 1.0})]
    );
    assert!(
        env.rows(&["failures", "--since", "2025-06-16"]).is_empty(),
        "both runs are on 2025-06-15"
    );
    assert_eq!(env.rows(&["failures", "--until", "2025-06-16"]).len(), 2);
    assert_cli!(
        "by_task_day",
        env,
        ["failures", "--by", "task", "--bucket", "day"]
    );
    let tests = [
        "failures", "--by", "test", "--branch", "dev", "--format", "csv",
    ];
    assert_cli!("by_test_on_dev", env, tests);
}

#[test]
fn by_pipeline_and_week_on_the_synthetic_history() {
    let env = common::synth_store(1);
    let args = ["failures", "--by", "pipeline", "--bucket", "week"];
    assert_cli!("by_pipeline_week", env, args);
    assert_cli!("bad_by", env, ["failures", "--by", "commit"]);
    assert_cli!("bad_bucket", env, ["failures", "--bucket", "month"]);
    assert_cli!("no_store", Env::new(), ["failures"]);
}
