//! `pipescope report` through the binary on a controlled history: the Markdown report
//! is snapshot-tested, and the HTML report is loaded in a real headless chromium
//! (installed by tests/browser/setup.sh) to check every chart rendered; and what the
//! command prints for an empty period, a missing store and bad arguments.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use common::{Env, assert_cli};
use pipescope::synth::history::{self, HistoryConfig, LastRun};

/// 2025-06-15T00:00:00Z: fixed so the snapshot does not move.
const END_NS: i64 = 1_749_945_600_000_000_000;
const NOW: &str = "2025-06-15T00:00:00Z";

/// The controlled history, built once for every test of this file (they only read
/// it; the HTML test writes its report beside the store).
fn store() -> &'static Env {
    static STORE: OnceLock<Env> = OnceLock::new();
    STORE.get_or_init(build_store)
}

fn build_store() -> Env {
    let mut cfg = HistoryConfig::quiet(11, END_NS);
    cfg.current_branch = "x'; DROP TABLE spans; --<script>".into();
    cfg.slow_task = Some(("build".into(), 1.6));
    cfg.new_failure_test = Some("test_checkout_total".into());
    cfg.last_run = LastRun::KnownFlakyAndNew;
    let env = Env::new();
    let traces = env.dir.path().join("history.jsonl");
    std::fs::write(&traces, history::generate(&cfg)).expect("write history");
    let (code, stderr) = env.ingest(&[&traces]);
    assert_eq!(code, 0, "ingest failed: {stderr}");
    env
}

const WINDOW: [&str; 6] = ["--since", "2d", "--baseline", "15d", "--now", NOW];

#[test]
fn markdown_report_snapshot() {
    let env = store();
    let mut args = vec!["report", "--format", "markdown"];
    args.extend(WINDOW);
    let (code, stdout, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("## Gate: FAIL"), "{stdout}");
    insta::assert_snapshot!("report_markdown", stdout);
}

#[test]
fn json_report_has_every_section() {
    let env = store();
    let mut args = vec!["report", "--format", "json"];
    args.extend(WINDOW);
    let (code, stdout, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let r = &doc["report"];
    assert_eq!(r["current"]["runs"], 15);
    assert_eq!(r["previous"]["runs"], 60);
    assert_eq!(r["flaky"][0]["test"], history::FLAKY_TEST);
    assert_eq!(r["failure_rate_by_branch"].as_array().unwrap().len(), 2);
    assert_eq!(r["task_durations"][0]["name"], "build p50");
    let path: Vec<&str> = r["critical_path"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["role"] == "task")
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(path, vec!["checkout", "build", "test", "lint"]);
    assert_eq!(doc["gate_passed"], false);
}

/// The browser's path, installed by tests/browser/setup.sh; when it cannot be, see
/// `common::require`.
fn chromium() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/setup.sh");
    let found = match Command::new("bash").arg(&script).output() {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => Err(format!(
            "{} cannot install it: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run bash: {e}")),
    };
    common::require("chromium (for the report's browser test)", found)
}

#[test]
fn html_report_renders_every_chart_in_chromium() {
    let env = store();
    let html = env.dir.path().join("report.html");
    let html_arg = html.display().to_string();
    let mut args = vec!["report", "--out", &html_arg];
    args.extend(WINDOW);
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    let source = std::fs::read_to_string(&html).unwrap();
    // Self-contained and escaped: no external resources, no live script tag.
    assert!(
        !source.contains("http://")
            || source.matches("http://").count()
                == source.matches("http://www.w3.org/2000/svg").count()
    );
    assert!(!source.contains("https://"));
    assert!(!source.contains("<script"), "unescaped branch name");
    assert!(source.contains("x&#39;; DROP TABLE spans; --&lt;script&gt;"));

    let Some(browser) = chromium() else { return };
    let profile = tempfile::tempdir().unwrap();
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
    ];
    let url = format!("file://{}", html.display());
    let user_data = format!("--user-data-dir={}", profile.path().display());
    let dom = Command::new(&browser)
        .args(flags)
        .arg(&user_data)
        .args(["--dump-dom", &url])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&dom.stdout);
    for (id, series) in [
        (
            "failure-rate-by-branch",
            vec!["main", "x&#39;; DROP TABLE spans; --&lt;script&gt;"],
        ),
        (
            "task-durations",
            vec!["test p50", "test p95", "build p50", "build p95"],
        ),
        ("critical-path", vec!["critical path"]),
    ] {
        let start = dom
            .find(&format!("<svg id=\"{id}\""))
            .unwrap_or_else(|| panic!("chart {id} missing from the rendered DOM"));
        let end = start + dom[start..].find("</svg>").expect("closed svg");
        let svg = &dom[start..end];
        for name in series {
            let needle = format!("data-series=\"{name}\"");
            // Chromium re-serialises attributes: ' may come back unescaped.
            let alt = needle.replace("&#39;", "'");
            assert!(
                svg.contains(&needle) || svg.contains(&alt),
                "{id}: no series {name}"
            );
        }
        assert!(
            svg.contains("<polyline") || svg.contains("<rect class=\"bar\""),
            "{id}: nothing drawn"
        );
        assert!(!svg.contains("points=\"\""), "{id}: an empty series");
    }
    assert!(!dom.contains("<script"), "a script element reached the DOM");

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join("report.png");
    let _ = std::fs::remove_file(&png);
    let status = Command::new(&browser)
        .args(flags)
        .arg(&user_data)
        .args(["--hide-scrollbars", "--window-size=1100,2400"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "screenshot is {size} bytes");
}

// What the command prints, case by case (exit code, stdout, stderr).

#[test]
fn writes_the_html_to_a_file() {
    let env = store();
    let html = env.arg(&env.dir.path().join("written.html"));
    let args = [&["report", "--out", &html], WINDOW.as_slice()].concat();
    assert_cli!("out_file", env, args);
    let args = [
        &["report", "--out", "/no/such/dir/r.html"],
        WINDOW.as_slice(),
    ]
    .concat();
    assert_cli!("out_unwritable", env, args);
}

#[test]
fn an_empty_period_still_reports() {
    let env = store();
    let later = [
        "--since",
        "2d",
        "--baseline",
        "15d",
        "--now",
        "2030-01-01T00:00:00Z",
    ];
    let args = [&["report", "--format", "markdown"], later.as_slice()].concat();
    assert_cli!("empty_period_markdown", env, args);
}

#[test]
fn bad_arguments_and_no_store() {
    let env = store();
    assert_cli!("bad_since", env, ["report", "--since", "yesterday"]);
    assert_cli!("bad_now", env, ["report", "--now", "tomorrow"]);
    assert_cli!("bad_format", env, ["report", "--format", "pdf"]);
    assert_cli!("no_store", Env::new(), ["report"]);
}
