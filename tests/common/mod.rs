//! Helpers for the integration tests: run the real binary against a store in a
//! temporary directory, read its JSON output, snapshot what a user sees of a command
//! (exit code, stdout and stderr together, see [`assert_cli!`]), build the shared
//! stores a test file reuses, and decide what a test does when something it needs
//! from outside the repository is missing ([`require`]).
#![allow(dead_code, unused_macros, unused_imports)] // each test file uses a different subset

pub mod s3;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The binary under test: `PIPESCOPE_BIN` if set (a shared target directory can hold
/// another checkout's binary at the default path), else the one cargo built for
/// these tests.
pub fn bin() -> PathBuf {
    std::env::var_os("PIPESCOPE_BIN")
        .map(Into::into)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_pipescope")))
}

/// What a test needs from outside the repository (a tool, a virtual environment,
/// shared data): `found` if it is there. If it is not, with `CI` set the test fails,
/// naming what is missing and why — a CI run must not pass by skipping what it was
/// meant to test; without `CI` the test skips (None) with a note on stderr.
pub fn require<T>(what: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(found) => Some(found),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{what} is required when CI is set, but it is unavailable: {why}")
        }
        Err(why) => {
            eprintln!("note: skipping, {what} is unavailable ({why}); with CI set this test fails");
            None
        }
    }
}

/// The first `tool` on PATH, for [`require`].
pub fn on_path(tool: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("{tool} is not on PATH"))
}

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
        let mut cmd = Command::new(bin());
        cmd.env("PIPESCOPE_DATA", self.data())
            .env_remove("PIPESCOPE_CONVENTIONS");
        cmd
    }

    /// The binary pointed at the store, as if no CI system ran it: the test's own CI
    /// job must not lend its context (branch, run id) to what the test ingests.
    pub fn cmd_outside_ci(&self) -> Command {
        let mut cmd = self.cmd();
        for marker in [
            "GITHUB_ACTIONS",
            "GITLAB_CI",
            "JENKINS_URL",
            "BUILDKITE",
            "CIRCLECI",
        ] {
            cmd.env_remove(marker);
        }
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

    /// Writes `content` to `name` in the temporary directory; returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write input");
        path
    }

    /// `path` as an argument.
    pub fn arg(&self, path: &Path) -> String {
        path.display().to_string()
    }

    /// What a user sees of `pipescope ARGS`: see [`transcript`].
    pub fn transcript(&self, args: &[&str]) -> String {
        self.transcript_with(args, |_| {})
    }

    /// [`Env::transcript`] with the command adjusted first (stdin, environment).
    pub fn transcript_with(&self, args: &[&str], adjust: impl FnOnce(&mut Command)) -> String {
        let mut cmd = self.cmd();
        cmd.args(args);
        adjust(&mut cmd);
        transcript(&cmd.output().expect("run"))
    }

    /// insta settings for snapshotting `pipescope ARGS` run in this environment: the
    /// header shows the command line, and the snapshot has what varies between runs
    /// replaced (see [`redactions`]).
    pub fn settings(&self, args: &[&str]) -> insta::Settings {
        redactions(self.dir.path(), args, &[])
    }

    /// [`Env::settings`] with more (regex, replacement) redactions.
    pub fn settings_with(&self, args: &[&str], extra: &[(&str, &str)]) -> insta::Settings {
        redactions(self.dir.path(), args, extra)
    }
}

/// Exit code, stdout and stderr of a finished command, as one text to snapshot: a
/// change to any of the three shows in one diff. An output that does not end in a
/// newline says so (the user's shell prompt would follow it on the same line).
pub fn transcript(out: &Output) -> String {
    let section = |text: &[u8]| {
        let text = String::from_utf8_lossy(text);
        if text.is_empty() || text.ends_with('\n') {
            text.into_owned()
        } else {
            format!("{text}\n[no newline at the end]\n")
        }
    };
    let code = out
        .status
        .code()
        .map_or_else(|| "killed".to_string(), |c| c.to_string());
    format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        section(&out.stdout),
        section(&out.stderr)
    )
}

/// insta settings that replace what varies between runs of the same command, and
/// nothing else: the temporary directory `tmp` (`[TMP]`), the elapsed time and rate
/// of a summary line (`(2.6s, 2220 spans/s)`), and the `extra` (regex, replacement)
/// pairs a test file adds (a server's port). The header's description is the command
/// line, redacted the same way.
pub fn redactions(tmp: &Path, args: &[&str], extra: &[(&str, &str)]) -> insta::Settings {
    let tmp = tmp.display().to_string();
    let mut filters = vec![
        (regex::escape(&tmp), "[TMP]".to_string()),
        (
            r"\(\d+\.\ds, \d+ (spans|traces)/s\)".to_string(),
            "([SECONDS]s, [RATE] $1/s)".to_string(),
        ),
    ];
    filters.extend(
        extra
            .iter()
            .map(|(re, to)| (re.to_string(), to.to_string())),
    );
    let mut settings = insta::Settings::clone_current();
    let mut line = args
        .iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ");
    for (re, to) in &filters {
        settings.add_filter(re, to.as_str());
        let re = regex::Regex::new(re).expect("filter regex");
        line = re.replace_all(&line, to.as_str()).into_owned();
    }
    settings.set_description(format!("pipescope {line}"));
    settings.set_omit_expression(true);
    settings
}

/// `word` quoted for a shell when it needs to be.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,[]@%+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Snapshots what a user sees of `pipescope ARGS` run in an [`Env`] (exit code,
/// stdout and stderr together, see [`transcript`]) under `name`, with what varies
/// between runs redacted. The snapshot lands beside the calling test file.
macro_rules! assert_cli {
    ($name:expr, $env:expr, $args:expr) => {{
        let env: &$crate::common::Env = &$env;
        let args: &[&str] = &$args;
        env.settings(args)
            .bind(|| insta::assert_snapshot!($name, env.transcript(args)));
    }};
}
pub(crate) use assert_cli;

/// A store holding one small run per `(branch, test status)`, trace ids 1, 2, …
/// (see [`otlp_line`]); panics if the ingest fails.
pub fn store_with_runs(runs: &[(&str, &str)]) -> Env {
    let env = Env::new();
    let lines: String = runs
        .iter()
        .zip(1..)
        .map(|(&(branch, status), trace)| otlp_line(trace, branch, status) + "\n")
        .collect();
    let path = env.write("runs.jsonl", &lines);
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 0, "ingest failed: {stderr}");
    env
}

/// One OTLP/JSON line holding one CI pipeline span on `branch` and a test below it
/// (`test_login`, `test_status` `pass` or `fail`; the pipeline fails with the test),
/// on 2025-06-15.
pub fn otlp_line(trace: u32, branch: &str, test_status: &str) -> String {
    let trace_id = format!("{trace:032x}");
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "ci"}},
            {"key": "vcs.ref.head.name", "value": {"stringValue": branch}},
            {"key": "vcs.ref.head.revision", "value": {"stringValue": "abc123"}}
        ]},
        "scopeSpans": [{"spans": [
            {"traceId": trace_id, "spanId": "00000000000000a1", "name": "pipeline",
             "startTimeUnixNano": "1750000000000000000", "endTimeUnixNano": "1750000060000000000",
             "attributes": [{"key": "cicd.pipeline.name", "value": {"stringValue": "build"}},
                            {"key": "cicd.pipeline.result", "value": {"stringValue": if test_status == "fail" { "failure" } else { "success" }}}]},
            {"traceId": trace_id, "spanId": "00000000000000a2", "parentSpanId": "00000000000000a1", "name": "test_login",
             "startTimeUnixNano": "1750000001000000000", "endTimeUnixNano": "1750000002000000000",
             "attributes": [{"key": "test.case.name", "value": {"stringValue": "test_login"}},
                            {"key": "test.case.result.status", "value": {"stringValue": test_status}}]}
        ]}]
    }]})
    .to_string()
}

/// Now, in nanoseconds since the Unix epoch: histories the tests write end here so
/// that the analyses' default windows (`7d`, `30d`) see them.
pub fn now_ns() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    now.as_nanos() as i64
}

/// An OTLP/JSON string attribute.
pub fn attr(key: &str, value: &str) -> Value {
    serde_json::json!({"key": key, "value": {"stringValue": value}})
}

/// A store holding what `content` (written to `name`) ingests to; panics when the
/// ingest fails.
pub fn store_of(name: &str, content: &str) -> Env {
    let env = Env::new();
    let path = env.write(name, content);
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 0, "ingest failed: {stderr}");
    env
}

/// A store holding one passing run of `otlp_line` on main.
pub fn one_run_store() -> Env {
    let env = Env::new();
    let path = env.write("one.json", &otlp_line(1, "main", "pass"));
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 0, "{stderr}");
    env
}

/// `../shared/fixtures/real`; when the checkout has no shared/ beside it, see
/// [`require`].
pub fn real_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real");
    let found = if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("{} is absent", dir.display()))
    };
    require("the real traces of ../shared/fixtures/real", found)
}

/// Writes the synthetic test history (planted truth) into `dir/traces` and returns
/// the truth.
pub fn synth_test_data(dir: &Path, seed: u64) -> Value {
    let out = dir.join("traces").display().to_string();
    let truth_path = dir.join("truth.json");
    let truth_arg = truth_path.display().to_string();
    let seed = seed.to_string();
    let status = Command::new(bin())
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

/// A store holding the synthetic test history of `seed` (fixed dates, so the
/// analyses' output does not move): the store a test file's snapshot cases share
/// (keep it in a `OnceLock`; the cases only read it).
pub fn synth_store(seed: u64) -> Env {
    let env = Env::new();
    synth_test_data(env.dir.path(), seed);
    let (code, stderr) = env.ingest(&[&env.dir.path().join("traces")]);
    assert_eq!(code, 0, "ingest of the synthetic history failed: {stderr}");
    env
}

/// The synthetic test history of `seed` stored as a receiver or a pull leaves it:
/// one ingest per input file, so each day holds many small files (for compaction).
pub fn fragmented_store(seed: u64) -> Env {
    let env = Env::new();
    synth_test_data(env.dir.path(), seed);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(env.dir.path().join("traces"))
        .expect("synth output")
        .map(|e| e.expect("entry").path())
        .collect();
    inputs.sort();
    for input in &inputs {
        let (code, stderr) = env.ingest(&[input]);
        assert_eq!(code, 0, "ingest of {} failed: {stderr}", input.display());
    }
    env
}
