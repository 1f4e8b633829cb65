//! `pipescope report` through the binary on a controlled history: the Markdown report
//! is snapshot-tested, the periods (`--since`, `--until`, the default baseline) are
//! checked; the HTML report of a wide, messy history (the synthetic month: nine
//! branches, hostile and 272-character branch names, long likely causes, a run with
//! many parallel spans) is loaded in a real headless chromium at 1280 px (installed by
//! tests/browser/setup.sh) to check that every chart rendered, nothing is wider than
//! the page and the waterfall folds what is off the critical path; and what the
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

/// The synthetic month (2025-06-01 to 2025-07-01) plus [`wide_run`], built once; only
/// the browser test reads it.
fn messy_store() -> &'static Env {
    static STORE: OnceLock<Env> = OnceLock::new();
    STORE.get_or_init(|| {
        let env = common::synth_store(1);
        let mut lines = wide_run();
        for k in 0..12 {
            lines.push('\n');
            lines.push_str(&long_named_flaky_run(k));
        }
        let path = env.write("wide-run.jsonl", &lines);
        let (code, stderr) = env.ingest(&[&path]);
        assert_eq!(code, 0, "ingest of the wide run failed: {stderr}");
        env
    })
}

/// The flaky test of [`long_named_flaky_run`]: a parametrised id with no space to
/// break at, as pytest writes them.
const LONG_TEST: &str = "tests/integration/test_artifacts.py::TestArtifactStore::test_download_resumes_after_reset[eu-west-1-s3-multipart-64MiB-chunks-with-checksum-sha256-and-retry-policy-exponential-backoff]";

/// Run `k` of 12 on one commit of main, 20–29 June: every fourth fails
/// [`LONG_TEST`], whose failing executions have an erroring request to a long URL
/// path, so the likely cause is long and mostly unbreakable too.
fn long_named_flaky_run(k: i64) -> String {
    const S: i64 = 1_000_000_000;
    let t0: i64 = 1_750_377_600 * S + k * 18 * 3_600 * S; // 2025-06-20T00:00:00Z + 18 h each
    let failed = k % 4 == 1;
    let trace = format!("{:032x}", 0xabc0_0000 + k);
    let kv = |pairs: &[(&str, &str)]| {
        serde_json::Value::Array(
            pairs
                .iter()
                .map(|(key, v)| serde_json::json!({"key": key, "value": {"stringValue": v}}))
                .collect(),
        )
    };
    let span = |id: &str,
                parent: Option<&str>,
                name: &str,
                from: i64,
                to: i64,
                error: bool,
                attrs| {
        let mut s = serde_json::json!({
            "traceId": trace, "spanId": id, "name": name,
            "startTimeUnixNano": (t0 + from * S).to_string(), "endTimeUnixNano": (t0 + to * S).to_string(),
            "attributes": attrs, "status": {"code": if error { 2 } else { 1 }},
        });
        if let Some(parent) = parent {
            s["parentSpanId"] = serde_json::json!(parent);
        }
        s
    };
    let result = if failed { "failure" } else { "success" };
    let url = "GET /v1/artifacts/eu-west-1/7f3c9a1e5b2d4f6a8c0e1b3d5f7a9c1e/chunks/00000042/range/67108864-134217727";
    let spans = vec![
        span(
            "00000000000000f1",
            None,
            "ci",
            0,
            300,
            false,
            kv(&[
                ("cicd.pipeline.name", "ci"),
                ("cicd.pipeline.run.id", &format!("artifacts-{k}")),
                ("cicd.pipeline.result", result),
            ]),
        ),
        span(
            "00000000000000f2",
            Some("00000000000000f1"),
            "integration",
            10,
            290,
            failed,
            kv(&[
                ("cicd.pipeline.task.name", "integration"),
                ("cicd.pipeline.task.run.result", result),
            ]),
        ),
        span(
            "00000000000000f3",
            Some("00000000000000f2"),
            LONG_TEST,
            20,
            280,
            failed,
            kv(&[
                ("test.case.name", LONG_TEST),
                (
                    "test.case.result.status",
                    if failed { "fail" } else { "pass" },
                ),
            ]),
        ),
        span(
            "00000000000000f4",
            Some("00000000000000f3"),
            url,
            30,
            270,
            failed,
            kv(&[("http.request.method", "GET")]),
        ),
    ];
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": kv(&[
            ("service.name", "ci"),
            ("vcs.ref.head.name", "main"),
            ("vcs.ref.head.revision", "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"),
        ])},
        "scopeSpans": [{"spans": spans}],
    }]})
    .to_string()
}

/// The trace id of [`wide_run`].
const WIDE_RUN: &str = "feedfacefeedfacefeedfacefeedface";

/// The month's last successful run (so the report draws it), with many spans: after
/// `checkout`, four test shards run side by side, each running its 60 tests six at a
/// time, then `publish`. On its critical path: checkout, the slowest shard and the
/// slowest test of each of its batches, publish; everything else is off it.
fn wide_run() -> String {
    const S: i64 = 1_000_000_000;
    let t0: i64 = 1_751_324_400 * S; // 2025-06-30T23:00:00Z
    let mut next_id = 0u32;
    let mut spans = Vec::new();
    let mut span =
        |parent: Option<&str>, name: &str, start: i64, end: i64, attrs: serde_json::Value| {
            next_id += 1;
            let id = format!("{next_id:016x}");
            let mut s = serde_json::json!({
                "traceId": WIDE_RUN, "spanId": id, "name": name,
                "startTimeUnixNano": start.to_string(), "endTimeUnixNano": end.to_string(),
                "attributes": attrs, "status": {"code": 1},
            });
            if let Some(parent) = parent {
                s["parentSpanId"] = serde_json::json!(parent);
            }
            spans.push(s);
            id
        };
    let kv = |pairs: &[(&str, &str)]| {
        serde_json::Value::Array(
            pairs
                .iter()
                .map(|(k, v)| serde_json::json!({"key": k, "value": {"stringValue": v}}))
                .collect(),
        )
    };
    let task = |name: &str| {
        kv(&[
            ("cicd.pipeline.task.name", name),
            ("cicd.pipeline.task.run.result", "success"),
        ])
    };
    let shard_len = |shard: i64| 10 * (9 + shard % 4 * 3) * S; // shard 3 is the slowest
    let end = t0 + 20 * S + shard_len(3) + 30 * S;
    let root = span(
        None,
        "ci",
        t0,
        end,
        kv(&[
            ("cicd.pipeline.name", "ci"),
            ("cicd.pipeline.run.id", "wide-1"),
            ("cicd.pipeline.result", "success"),
        ]),
    );
    span(Some(&root), "checkout", t0, t0 + 20 * S, task("checkout"));
    for shard in 0..4 {
        let name = format!("test-shard-{shard}");
        let start = t0 + 20 * S;
        let id = span(
            Some(&root),
            &name,
            start,
            start + shard_len(shard),
            task(&name),
        );
        let batch_len = shard_len(shard) / 10;
        for k in 0..60i64 {
            let batch = start + k / 6 * batch_len;
            // The first test of each batch takes the whole batch.
            let len = if k % 6 == 0 {
                batch_len
            } else {
                batch_len / 2 + k * S / 10
            };
            let test = format!("tests/shard{shard}/test_case_{k:02}.py::test_it");
            let attrs = kv(&[
                ("test.case.name", &test),
                ("test.case.result.status", "pass"),
            ]);
            span(Some(&id), &test, batch, batch + len, attrs);
        }
    }
    span(Some(&root), "publish", end - 30 * S, end, task("publish"));
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": kv(&[
            ("service.name", "ci"),
            ("vcs.ref.head.name", "main"),
            ("vcs.ref.head.revision", "0123456789abcdef0123456789abcdef01234567"),
        ])},
        "scopeSpans": [{"spans": spans}],
    }]})
    .to_string()
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
    assert_eq!(
        r["summary"],
        "This report covers the last 2 days (13–14 June 2025), compared with the 13 days before (31 May – 12 June 2025)."
    );
    assert_eq!(r["period"]["baseline_from"], "2025-05-31T00:00:00Z");
    assert_eq!(r["period"]["current_from"], "2025-06-13T00:00:00Z");
    assert_eq!(r["period"]["current_to"], NOW);
    assert_eq!(r["failure_rate_bucket"], "day");
    let branches = r["failure_rate_by_branch"].as_array().unwrap();
    assert_eq!(branches.len(), 2);
    // Counts per bucket add up to the branch's, and main's runs are the baseline's.
    for b in branches {
        let points = b["points"].as_array().unwrap();
        let sum = |key: &str| points.iter().map(|p| p[key].as_u64().unwrap()).sum::<u64>();
        assert_eq!(sum("runs"), b["runs"].as_u64().unwrap(), "{b}");
        assert_eq!(sum("failed"), b["failed"].as_u64().unwrap(), "{b}");
    }
    assert_eq!(branches[0]["branch"], "main");
    assert_eq!(branches[0]["runs"], 60);
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

/// The issue's case: an absolute `--since` and no `--baseline` compares with the same
/// span of time just before it; `--until` ends the current period; an explicit
/// baseline that stops short is the only refusal.
#[test]
fn an_absolute_since_compares_with_the_span_before_it() {
    let env = store();
    let json = |args: &[&str]| {
        let args = [&["report", "--format", "json", "--now", NOW], args].concat();
        let (code, stdout, stderr) = env.run(&args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        doc["report"].clone()
    };
    let r = json(&["--since", "2025-06-13"]);
    assert_eq!(
        r["summary"],
        "This report covers 13–14 June 2025, compared with the 2 days before (11–12 June 2025)."
    );
    assert_eq!(r["baseline"], serde_json::Value::Null);
    // The history's current runs are its last 2 days; the 2 days before hold the
    // last few of its 60 baseline runs.
    assert_eq!(r["current"]["runs"], 15);
    let previous = r["previous"]["runs"].as_u64().unwrap();
    assert!(previous > 0 && previous < 60, "{previous}");
    // Six days up to 2025-06-12 (exclusive): baseline runs only, against the six before.
    let r = json(&["--since", "6d", "--until", "2025-06-12"]);
    assert_eq!(r["period"]["current_from"], "2025-06-06T00:00:00Z");
    assert_eq!(r["period"]["baseline_from"], "2025-05-31T00:00:00Z");
    assert_eq!(r["current"]["failed_runs"], 0);
    assert_eq!(r["flaky"][0]["test"], history::FLAKY_TEST);
    let current = r["current"]["runs"].as_u64().unwrap();
    let previous = r["previous"]["runs"].as_u64().unwrap();
    assert!(current > 0 && previous > 0, "{current} / {previous}");
    assert!(current + previous <= 60, "{current} + {previous}");
    assert_cli!(
        "baseline_too_short",
        env,
        [
            "report",
            "--since",
            "2025-06-01",
            "--baseline",
            "7d",
            "--now",
            NOW
        ]
    );
    assert_cli!(
        "until_before_since",
        env,
        [
            "report",
            "--since",
            "2025-06-13",
            "--until",
            "2025-06-12",
            "--now",
            NOW
        ]
    );
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
fn html_report_is_self_contained_and_escaped() {
    let env = store();
    let html = env.dir.path().join("report.html");
    let html_arg = html.display().to_string();
    let mut args = vec!["report", "--out", &html_arg];
    args.extend(WINDOW);
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    let source = std::fs::read_to_string(&html).unwrap();
    // Self-contained and escaped: no external resources, no live script tag.
    assert_eq!(
        source.matches("http://").count(),
        source.matches("http://www.w3.org/2000/svg").count()
    );
    assert!(!source.contains("https://"));
    assert!(!source.contains("<script"), "unescaped branch name");
    assert!(source.contains("data-series=\"x&#39;; DROP TABLE spans; --&lt;script&gt;\""));
    assert!(source.contains(
        "<p id=\"summary\">This report covers the last 2 days (13–14 June 2025), compared with the 13 days before (31 May – 12 June 2025).</p>"
    ));
}

/// Measures the page as chromium laid it out: appended to a copy of the report (the
/// report itself has no script), it writes what it found into `<pre id="measured">`,
/// which `--dump-dom` then carries out.
const MEASURE: &str = r#"<script>
const vw = window.innerWidth;
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)) {
    wide.push(el.tagName + (el.id ? '#' + el.id : '') + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
}
const rows = document.querySelectorAll('#critical-path rect.bar').length;
const folded = document.querySelectorAll('#critical-path rect.folded').length;
const charts = [...document.querySelectorAll('#failure-rate-by-branch svg')];
const chart_widths = charts.map(c => Math.round(c.getBoundingClientRect().width));
const counts = document.querySelectorAll('#failure-rate-by-branch text.count').length;
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify({viewport: vw, scroll_width: document.documentElement.scrollWidth, wide: wide.slice(0, 20), rows: rows, folded: folded, chart_widths: chart_widths, counts: counts});
document.body.appendChild(pre);
</script>"#;

#[test]
fn html_report_fits_1280px_in_chromium() {
    let env = messy_store();
    // The issue's invocation: an absolute --since and no --baseline; 30 days in all,
    // so failure rates come in weekly buckets.
    let window = [
        "--since",
        "2025-06-16",
        "--until",
        "2025-07-01",
        "--now",
        "2025-07-01T00:00:00Z",
    ];
    let json_args = [&["report", "--format", "json"], window.as_slice()].concat();
    let (code, stdout, stderr) = env.run(&json_args);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let r = &doc["report"];
    assert_eq!(
        r["summary"],
        "This report covers 16–30 June 2025, compared with the 15 days before (1–15 June 2025)."
    );
    assert_eq!(r["failure_rate_bucket"], "week");
    let branches: Vec<&str> = r["failure_rate_by_branch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["branch"].as_str().unwrap())
        .collect();
    assert_eq!(branches.len(), 6, "{branches:?}");
    let longest_cause = r["flaky"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["likely_cause"].as_str().unwrap().chars().count())
        .max()
        .unwrap_or(0);
    assert!(
        longest_cause > 120,
        "no long cause to wrap: {longest_cause}"
    );
    // The planted long-named flaky test (under its canonical test id) and its long,
    // mostly unbreakable cause are in the table the browser lays out.
    let long = r["flaky"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["test"]
                .as_str()
                .is_some_and(|t| t.contains("test_download_resumes_after_reset[eu-west-1-s3"))
        })
        .unwrap_or_else(|| panic!("the long-named test is not among the flaky: {}", r["flaky"]));
    let cause = long["likely_cause"].as_str().unwrap();
    assert!(
        cause.starts_with("error: GET /v1/artifacts/eu-west-1/"),
        "{cause}"
    );
    let bars = r["critical_path"].as_array().unwrap();
    let path_rows = bars.iter().filter(|b| b["off_path"].is_null()).count();
    let folded: Vec<u64> = bars.iter().filter_map(|b| b["off_path"].as_u64()).collect();
    assert_eq!(r["critical_path_run"], WIDE_RUN);
    let path: Vec<&str> = bars
        .iter()
        .filter(|b| b["role"] == "task")
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["checkout", "test-shard-3", "publish"]);
    // 10 batches of the slowest shard; the three other shards (61 spans each) folded
    // under the run, shard 3's 50 other tests under it.
    assert_eq!(bars.iter().filter(|b| b["role"] == "test").count(), 10);
    let mut folded_counts: Vec<u64> = bars.iter().filter_map(|b| b["off_path"].as_u64()).collect();
    folded_counts.sort();
    assert_eq!(folded_counts, [50, 183]);
    // Every span of the run is either a row on the path or counted in a folded row,
    // and its 247 spans take 16 rows.
    let spans = env.count(&format!(
        "SELECT count(*) FROM spans WHERE trace_id = '{WIDE_RUN}'"
    ));
    let accounted = path_rows as u64 + folded.iter().sum::<u64>();
    assert_eq!((accounted as i64, spans), (247, 247));
    assert_eq!(path_rows + folded.len(), 1 + 3 + 10 + 2);

    let html = env.dir.path().join("report.html");
    let html_arg = html.display().to_string();
    let args = [&["report", "--out", &html_arg], window.as_slice()].concat();
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    let source = std::fs::read_to_string(&html).unwrap();
    assert!(!source.contains("<script"), "a script in the report");
    let measured_html = env.dir.path().join("measured.html");
    std::fs::write(
        &measured_html,
        source.replace("</body>", &format!("{MEASURE}</body>")),
    )
    .unwrap();

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
        "--hide-scrollbars",
        "--window-size=1280,2400",
    ];
    let user_data = format!("--user-data-dir={}", profile.path().display());
    let out = Command::new(&browser)
        .args(flags)
        .arg(&user_data)
        .args(["--dump-dom", &format!("file://{}", measured_html.display())])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"measured\">").unwrap_or_else(|| {
        panic!(
            "the measuring script did not run: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let text = &dom[start + "<pre id=\"measured\">".len()..];
    let text = &text[..text.find("</pre>").expect("closed pre")];
    let m: serde_json::Value = serde_json::from_str(&text.replace("&quot;", "\"")).expect("JSON");
    assert_eq!(m["viewport"], 1280, "{m}");
    assert_eq!(
        m["wide"],
        serde_json::json!([]),
        "elements wider than the viewport: {m}"
    );
    assert!(m["scroll_width"].as_u64().unwrap() <= 1280, "{m}");
    // The waterfall draws the path's rows plus the folded ones, not every span.
    assert_eq!(m["rows"], path_rows as u64, "{m}");
    assert_eq!(m["folded"], folded.len() as u64, "{m}");

    // Six small charts side by side in pairs, at full size, their bars labelled.
    let widths: Vec<u64> = m["chart_widths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .collect();
    assert_eq!(widths.len(), 6, "{m}");
    assert!(
        widths.iter().all(|&w| w >= 480),
        "a small chart was shrunk: {m}"
    );
    assert!(m["counts"].as_u64().unwrap() >= 6, "{m}");
    // Every chart rendered, every branch has its own small chart.
    for (id, series) in [
        ("failure-rate-by-branch", branches.clone()),
        ("task-durations", vec![]),
        ("critical-path", vec!["critical path"]),
    ] {
        let start = dom
            .find(&format!(" id=\"{id}\""))
            .unwrap_or_else(|| panic!("chart {id} missing from the rendered DOM"));
        let end = start + dom[start..].find("</h2>").unwrap_or(dom.len() - start);
        let chart = &dom[start..end];
        for name in series {
            let escaped = name
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            assert!(
                chart.contains(&format!("data-series=\"{escaped}\"")),
                "{id}: no series {name}"
            );
        }
        assert!(
            chart.contains("<polyline")
                || chart.contains("class=\"bar\"")
                || chart.contains("class=\"bucket\""),
            "{id}: nothing drawn"
        );
        assert!(!chart.contains("points=\"\""), "{id}: an empty series");
    }

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join("report.png");
    let _ = std::fs::remove_file(&png);
    let status = Command::new(&browser)
        .args(flags)
        .arg(&user_data)
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
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
