//! The store is plain Parquet: DuckDB and polars (installed by tests/interop/setup.sh
//! from PyPI) read it as it is and get the same failure rates per branch as
//! `pipescope failures`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Env, synth_test_data};
use serde_json::{Value, json};

/// The virtual environment's python, installed on first use by setup.sh; when
/// python3 is missing, see `common::require`.
fn python() -> Option<String> {
    let python3 = match Command::new("python3").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("python3 cannot be run: {e}")),
    };
    common::require("python3 (for DuckDB and polars)", python3)?;
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/setup.sh");
    let out = Command::new("bash")
        .arg(&setup)
        .output()
        .expect("run setup.sh");
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        setup.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn duckdb_and_polars_read_the_store_and_agree_with_pipescope() {
    let Some(python) = python() else { return };
    let env = Env::new();
    synth_test_data(env.dir.path(), 11);
    let (code, stderr) = env.ingest(&[&env.dir.path().join("traces")]);
    assert_eq!(code, 0, "{stderr}");

    let ours: Vec<Value> = env
        .rows(&["failures", "--by", "branch"])
        .into_iter()
        .map(|r| json!([r["branch"], r["runs"], r["failed"]]))
        .collect();
    let mut ours = ours;
    ours.sort_by_key(|r| r[0].as_str().map(String::from));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/failure_rates.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(env.data())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).expect("JSON from the script");

    assert!(ours.len() >= 5, "too few branches to compare: {ours:?}");
    assert_eq!(
        theirs["duckdb"],
        Value::Array(ours.clone()),
        "DuckDB disagrees"
    );
    assert_eq!(theirs["polars"], Value::Array(ours), "polars disagrees");
    assert!(
        theirs["spans_with_attributes"]
            .as_i64()
            .is_some_and(|n| n > 0)
    );
}
