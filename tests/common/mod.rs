//! Helpers for the integration tests: run the real binary against a store in a
//! temporary directory and read its JSON output.
#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// A temporary store plus the binary pointed at it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("pipescope").expect("binary");
        cmd.env("PIPESCOPE_DATA", self.data())
            .env_remove("PIPESCOPE_CONVENTIONS");
        cmd
    }

    /// Runs the binary; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = self.cmd().args(args).output().expect("run");
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// Runs an analysis with `--format json` and returns its rows; panics with stderr
    /// if it fails.
    pub fn rows(&self, args: &[&str]) -> Vec<Value> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--format", "json"]);
        let (code, stdout, stderr) = self.run(&all);
        assert_eq!(code, 0, "pipescope {args:?} failed: {stderr}");
        let doc: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
        assert_eq!(doc["schema_version"], 1);
        doc["rows"].as_array().cloned().unwrap_or_default()
    }

    /// Rows of an ad hoc query.
    pub fn sql(&self, query: &str) -> Vec<Value> {
        self.rows(&["sql", query])
    }

    /// One number from an ad hoc query's first row.
    pub fn count(&self, query: &str) -> i64 {
        let rows = self.sql(query);
        let first = rows
            .first()
            .and_then(|r| r.as_object())
            .and_then(|o| o.values().next().cloned());
        first
            .and_then(|v| v.as_i64())
            .unwrap_or_else(|| panic!("no count from {query}: {rows:?}"))
    }

    /// Ingests paths; returns (exit code, stderr).
    pub fn ingest(&self, paths: &[&Path]) -> (i32, String) {
        let mut args = vec!["ingest".to_string()];
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, stderr) = self.run(&args);
        (code, stderr)
    }
}

/// `../shared/fixtures/real`, or None (with a note) when the checkout has no shared/ beside it.
pub fn real_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent; skipping the real-trace tests",
            dir.display()
        );
        None
    }
}

/// Writes the synthetic test history (planted truth) into `dir/traces` and returns
/// the truth.
pub fn synth_test_data(dir: &Path, seed: u64) -> Value {
    let out = dir.join("traces").display().to_string();
    let truth_path = dir.join("truth.json");
    let truth_arg = truth_path.display().to_string();
    let seed = seed.to_string();
    let status = Command::cargo_bin("pipescope")
        .expect("binary")
        .args([
            "synth", "--preset", "test", "--seed", &seed, "--out", &out, "--truth", &truth_arg,
        ])
        .output()
        .expect("run synth");
    assert!(
        status.status.success(),
        "synth failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let truth = std::fs::read_to_string(&truth_path).expect("truth.json");
    serde_json::from_str(&truth).expect("truth is JSON")
}
