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

/// The critical-path walk takes runs one at a time off a sorted stream whose sort
/// spills to disk past its memory bound (`PIPESCOPE_STREAM_MEMORY`). The answer is
/// the same under any bound: one below what the sort holds spills (or, when the
/// sort's merge cannot fit either, which DataFusion does not spill, falls back);
/// one far too small is said, with the knob to turn, and the walk runs unbounded
/// rather than failing. The default bound holds this store without a word.
#[test]
fn the_same_answer_when_the_walk_must_spill() {
    let env = Env::new();
    let input = env.dir.path().join("bench");
    let input_arg = input.display().to_string();
    let (code, _, stderr) = env.run(&[
        "synth", "--preset", "bench", "--spans", "50000", "--out", &input_arg,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = env.ingest(&[&input]);
    assert_eq!(code, 0, "{stderr}");
    let run = |memory: Option<&str>| {
        let mut cmd = env.cmd();
        if let Some(bytes) = memory {
            cmd.env("PIPESCOPE_STREAM_MEMORY", bytes);
        }
        let out = cmd
            .args(["bottlenecks", "--by", "step", "--format", "json"])
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stdout, stderr)
    };
    let (ok, unbounded, stderr) = run(None);
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("without the bound"), "{stderr}");
    assert!(unbounded.contains("\"critical_path_s\""), "{unbounded}");
    for bytes in ["16000000", "24000000"] {
        let (ok, bounded, stderr) = run(Some(bytes));
        assert!(ok, "{stderr}");
        assert_eq!(bounded, unbounded, "bounded to {bytes} bytes");
    }
    let (ok, tiny, stderr) = run(Some("500000"));
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(
            "pipeline_spans needs more than the 500000 bytes it may hold while streaming"
        ) && stderr.contains("raise PIPESCOPE_STREAM_MEMORY"),
        "{stderr}"
    );
    assert_eq!(tiny, unbounded);
}
