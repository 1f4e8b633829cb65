//! `pipescope compare` as a user meets it: one test's likely causes, every flaky
//! test's, a test that never failed, an unknown test and the flags it needs. That
//! compare names each planted cause is checked in planted_truth.rs.

mod common;

use std::sync::OnceLock;

use common::{Env, assert_cli};

/// The synthetic history of seed 1, built once for the cases of this file.
fn store() -> &'static Env {
    static STORE: OnceLock<Env> = OnceLock::new();
    STORE.get_or_init(|| common::synth_store(1))
}

#[test]
fn an_unknown_test_is_named() {
    let env = common::one_run_store();
    let (code, _, stderr) = env.run(&["compare", "--test", "no_such_test"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no_such_test"), "{stderr}");
    assert_cli!("unknown_test", env, ["compare", "--test", "no_such_test"]);
}

#[test]
fn one_test_likely_cause_first() {
    let env = store();
    let args = [
        "compare",
        "--test",
        "TestOrderHistoryPagination",
        "--limit",
        "3",
    ];
    assert_cli!("test_table", env, args);
    assert_cli!(
        "never_failed",
        env,
        ["compare", "--test", "SmokeTest.testHomepage"]
    );
}

#[test]
fn every_flaky_test() {
    let env = store();
    let json = ["compare", "--flaky", "--limit", "1", "--format", "json"];
    assert_cli!("flaky_json", env, json);
    assert_cli!(
        "no_flaky_test",
        env,
        ["compare", "--flaky", "--branch", "nope"]
    );
}

#[test]
fn needs_a_test_or_flaky_not_both() {
    let env = store();
    assert_cli!("neither", env, ["compare"]);
    assert_cli!("both", env, ["compare", "--test", "x", "--flaky"]);
    assert_cli!("no_store", Env::new(), ["compare", "--flaky"]);
}
