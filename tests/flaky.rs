//! `pipescope flaky` as a user meets it: every output format on the synthetic
//! history, an empty result, a missing store and bad arguments. That the flaky set
//! is exactly the planted one is checked in planted_truth.rs.

mod common;

use std::sync::OnceLock;

use common::{Env, assert_cli};

/// The synthetic history of seed 1, built once for the cases of this file.
fn store() -> &'static Env {
    static STORE: OnceLock<Env> = OnceLock::new();
    STORE.get_or_init(|| common::synth_store(1))
}

#[test]
fn without_a_store_it_says_how_to_make_one() {
    let env = Env::new();
    let (code, _, stderr) = env.run(&["flaky"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no store at") && stderr.contains("pipescope ingest"),
        "{stderr}"
    );
    assert_cli!("no_store", env, ["flaky"]);
}

#[test]
fn a_time_it_cannot_read_is_refused_with_the_forms_it_can() {
    let env = common::one_run_store();
    let (code, _, stderr) = env.run(&["flaky", "--since", "last tuesday"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--since") && stderr.contains("7d"),
        "{stderr}"
    );
    assert_cli!("bad_since", env, ["flaky", "--since", "last tuesday"]);
    assert_cli!("bad_until", env, ["flaky", "--until", "2025-13-01"]);
}

/// CSV and Markdown come from the same renderers for every analysis: failures.rs
/// snapshots them.
#[test]
fn table_and_json() {
    let env = store();
    assert_cli!("table", env, ["flaky", "--limit", "3"]);
    assert_cli!("json", env, ["flaky", "--limit", "2", "--format", "json"]);
}

#[test]
fn all_lists_broken_and_stable_tests_too() {
    let env = store();
    let all = ["flaky", "--all", "--branch", "main", "--format", "csv"];
    assert_cli!("all_csv", env, all);
}

#[test]
fn no_matching_rows() {
    let env = store();
    assert_cli!("no_rows_table", env, ["flaky", "--branch", "nope"]);
    let json = ["flaky", "--branch", "nope", "--format", "json"];
    assert_cli!("no_rows_json", env, json);
    let reversed = ["flaky", "--since", "2025-07-01", "--until", "2025-06-01"];
    assert_cli!("since_after_until", env, reversed);
}

#[test]
fn bad_flag_values_are_refused() {
    let env = store();
    assert_cli!("bad_format", env, ["flaky", "--format", "xml"]);
    assert_cli!("bad_limit", env, ["flaky", "--limit", "-3"]);
    assert_cli!("unknown_flag", env, ["flaky", "--test", "x"]);
}
