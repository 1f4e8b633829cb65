//! `pipescope bottlenecks` as a user meets it: tasks and steps ranked by their time on
//! the critical path, one pipeline, an empty result and bad arguments. That the
//! critical task ranks first is checked in planted_truth.rs.

mod common;

use std::sync::OnceLock;

use common::{Env, assert_cli};

/// The synthetic history of seed 1, built once for the cases of this file.
fn store() -> &'static Env {
    static STORE: OnceLock<Env> = OnceLock::new();
    STORE.get_or_init(|| common::synth_store(1))
}

#[test]
fn tasks_and_steps() {
    let env = store();
    assert_cli!("tasks", env, ["bottlenecks", "--limit", "4"]);
    let steps = ["bottlenecks", "--by", "step", "--limit", "3"];
    assert_cli!("steps", env, steps);
}

#[test]
fn one_pipeline_as_json() {
    let env = store();
    let args = ["bottlenecks", "--pipeline", "release", "--format", "json"];
    assert_cli!("pipeline_json", env, args);
}

#[test]
fn no_matching_rows() {
    let env = store();
    assert_cli!("no_rows", env, ["bottlenecks", "--branch", "nope"]);
}

#[test]
fn bad_arguments_and_no_store() {
    let env = store();
    assert_cli!("bad_by", env, ["bottlenecks", "--by", "job"]);
    assert_cli!("bad_limit", env, ["bottlenecks", "--limit", "ten"]);
    assert_cli!("no_store", Env::new(), ["bottlenecks"]);
}
