//! `pipescope pull` against in-process fake Jaeger, Tempo and Zipkin servers serving
//! the synthetic test history (`synth --preset test`): with injected faults the store
//! must end up holding exactly the server's traces, with the same analysis results as
//! ingesting the trace files; interrupted pulls resume from their checkpoint. Against
//! a generated month of traces (`fake_backends::month_of_traces`): how many searches a
//! sparse month takes, and that a dense hour is split until every trace is fetched,
//! once. And what the command prints for an empty backend, an unreachable one, a
//! refusal and bad arguments.

mod common;
mod fake_backends;

use std::collections::HashSet;
use std::time::Duration;

use common::Env;
use fake_backends::{Fake, Fault, Kind};
use pipescope::model::Span;
use serde_json::Value;

/// The synthetic test history, written under `dir`, as the fake backends serve it.
fn synth_traces(dir: &std::path::Path) -> Vec<Vec<Span>> {
    common::synth_test_data(dir, 0);
    fake_backends::traces_in(&dir.join("traces"))
}

const START: &str = "2025-06-01";
const END: &str = "2025-07-05";
/// 2025-06-01T00:00:00Z, the start of the generated month, in ns.
const JUNE_NS: i64 = 1_748_736_000_000_000_000;
const JUNE_END: &str = "2025-07-01";

/// Fast retries and a short timeout so that faults cost milliseconds.
fn pull_args<'a>(backend: &'a str, url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "pull",
        backend,
        "--url",
        url,
        "--start",
        START,
        "--end",
        END,
        "--window",
        "2d",
        "--retry-delay",
        "5ms",
        "--timeout",
        "2s",
        "--max-attempts",
        "8",
    ];
    args.extend_from_slice(extra);
    args
}

/// (trace id, span count) of every stored trace.
fn stored(env: &Env) -> Vec<(String, i64)> {
    env.sql("SELECT trace_id, count(*) AS n FROM spans GROUP BY trace_id ORDER BY trace_id")
        .iter()
        .map(|r| {
            (
                r["trace_id"].as_str().unwrap_or("").to_string(),
                r["n"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// Asserts equal trace lists, showing only the differences.
fn same_traces(got: Vec<(String, i64)>, want: Vec<(String, i64)>) {
    let g: HashSet<_> = got.iter().cloned().collect();
    let w: HashSet<_> = want.iter().cloned().collect();
    let extra: Vec<_> = g.difference(&w).collect();
    let missing: Vec<_> = w.difference(&g).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "extra {extra:?}, missing {missing:?}"
    );
    assert_eq!(got.len(), want.len());
}

fn expected(traces: &[Vec<Span>], service: Option<&str>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = traces
        .iter()
        .filter(|t| service.is_none_or(|s| t.iter().any(|x| x.service.as_deref() == Some(s))))
        .map(|t| (t[0].trace_id.clone(), t.len() as i64))
        .collect();
    v.sort();
    v
}

fn same_analyses(a: &Env, b: &Env) {
    for (x, y) in analyses(a).iter().zip(analyses(b).iter()) {
        assert_eq!(x.len(), y.len());
        for (rx, ry) in x.iter().zip(y) {
            assert_eq!(rx, ry);
        }
    }
}

fn analyses(env: &Env) -> Vec<Vec<Value>> {
    vec![
        env.rows(&["flaky", "--all"]),
        env.rows(&["failures", "--by", "branch"]),
        env.rows(&["failures", "--by", "test"]),
        env.rows(&["bottlenecks"]),
    ]
}

/// Every transient fault, each on the first attempts of about a third of the URLs.
fn all_faults() -> Option<(u64, Vec<Fault>)> {
    Some((
        3,
        vec![
            Fault::Unavailable,
            Fault::CutOff,
            Fault::Html200,
            Fault::Slow(Duration::from_millis(2500)),
        ],
    ))
}

#[test]
fn tempo_pull_with_faults_equals_ingesting_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let traces = synth_traces(dir.path());
    let fake = Fake::start(Kind::Tempo { v2: true }, traces.clone());
    fake.with(|b| {
        b.org_id = Some("team-ci".into());
        b.auth = Some("Bearer s3cret".into());
        b.transient = all_faults();
    });
    let files = Env::new();
    let (code, err) = files.ingest(&[&dir.path().join("traces")]);
    assert_eq!(code, 0, "{err}");

    let pulled = Env::new();
    let args = pull_args(
        "tempo",
        &fake.url,
        &[
            "--org-id",
            "team-ci",
            "--token-env",
            "FAKE_TOKEN",
            "--limit",
            "7",
            "--concurrency",
            "4",
        ],
    );
    let out = pulled
        .cmd()
        .env("FAKE_TOKEN", "s3cret")
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let served = fake.served();
    let retried = served.iter().filter(|s| s.status != 200).count();
    assert!(retried > 20, "faults were injected: {retried}");
    same_traces(stored(&pulled), expected(&traces, None));
    same_traces(stored(&pulled), stored(&files));
    assert_eq!(analyses(&pulled), analyses(&files));
}

#[test]
fn jaeger_api_v3_with_faults_and_429_equals_ingesting_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let traces = synth_traces(dir.path());
    let fake = Fake::start(Kind::JaegerV3, traces.clone());
    fake.with(|b| {
        b.transient = Some((
            4,
            vec![
                Fault::TooMany { retry_after_s: 1 },
                Fault::Html502,
                Fault::CutOff,
            ],
        ));
    });
    let files = Env::new();
    files.ingest(&[&dir.path().join("traces")]);
    let pulled = Env::new();
    // No --service: every service is listed and pulled (traces shared by services are
    // stored once).
    let (code, _, stderr) = pulled.run(&pull_args("jaeger", &fake.url, &["--limit", "5"]));
    assert_eq!(code, 0, "{stderr}");
    same_traces(stored(&pulled), stored(&files));
    same_analyses(&pulled, &files);
    // Retry-After: 1 was honoured: the retry of a 429'd URL came at least 1 s later.
    let served = fake.served();
    let first_429 = served
        .iter()
        .find(|s| s.status == 429)
        .expect("a 429 was served");
    let retry = served
        .iter()
        .find(|s| s.target == first_429.target && s.at > first_429.at)
        .expect("the 429'd request was retried");
    assert!(retry.at - first_429.at >= Duration::from_millis(950));
}

#[test]
fn jaeger_v1_fallback_and_zipkin_store_exactly_the_servers_traces() {
    let dir = tempfile::tempdir().unwrap();
    let traces = synth_traces(dir.path());
    let service = traces[0][0].service.clone().expect("a service");
    for kind in [Kind::JaegerV1, Kind::Zipkin] {
        let fake = Fake::start(kind, traces.clone());
        fake.with(|b| b.transient = all_faults());
        let env = Env::new();
        let backend = if kind == Kind::Zipkin {
            "zipkin"
        } else {
            "jaeger"
        };
        let (code, _, stderr) = env.run(&pull_args(
            backend,
            &fake.url,
            &["--service", &service, "--limit", "6"],
        ));
        assert_eq!(code, 0, "{kind:?}: {stderr}");
        same_traces(stored(&env), expected(&traces, Some(&service)));
        if kind == Kind::JaegerV1 {
            assert!(
                fake.served()
                    .iter()
                    .any(|s| s.target.starts_with("/api/v3/services") && s.status == 404)
            );
        }
    }
}

#[test]
fn a_pull_stopped_by_a_fatal_error_resumes_to_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let traces = synth_traces(dir.path());
    let whole = Env::new();
    let fake = Fake::start(Kind::Tempo { v2: false }, traces.clone());
    let (code, _, stderr) = whole.run(&pull_args("tempo", &fake.url, &["--limit", "50"]));
    assert_eq!(code, 0, "{stderr}");

    let resumed = Env::new();
    let fake = Fake::start(Kind::Tempo { v2: false }, traces.clone());
    fake.with(|b| b.fatal_after = Some(60));
    // One window at a time, so that the 60th request falls after some windows are
    // complete whatever the machine's load (windows commit in time order).
    let (code, _, stderr) = resumed.run(&pull_args(
        "tempo",
        &fake.url,
        &["--limit", "50", "--concurrency", "1"],
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("HTTP 403") && stderr.contains("checkpoint"),
        "{stderr}"
    );
    let part = stored(&resumed);
    assert!(
        !part.is_empty() && part.len() < traces.len(),
        "{} of {}: {stderr}",
        part.len(),
        traces.len()
    );
    // Healed server; no --start: continue from the checkpoint.
    fake.with(|b| b.fatal_after = None);
    let args: Vec<&str> = vec![
        "pull",
        "tempo",
        "--url",
        &fake.url,
        "--end",
        END,
        "--retry-delay",
        "5ms",
        "--limit",
        "50",
        "--window",
        "2d",
    ];
    let (code, _, stderr) = resumed.run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("from the checkpoint"), "{stderr}");
    same_traces(stored(&resumed), stored(&whole));
    assert_eq!(analyses(&resumed), analyses(&whole));
    // A third run re-reads only the overlap and stores nothing new.
    let (code, _, stderr) = resumed.run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(" 0 stored"), "{stderr}");
}

#[test]
fn a_body_that_stays_broken_is_reported_redacted_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let traces = synth_traces(dir.path());
    let broken = traces[3][0].trace_id.clone();
    let fake = Fake::start(Kind::Tempo { v2: true }, traces.clone());
    fake.with(|b| b.permanent = Some((broken.clone(), Fault::Html200)));
    let url = fake.url.replace("http://", "http://ci:hunter2@");
    let env = Env::new();
    let (code, _, stderr) = env.run(&pull_args("tempo", &url, &["--limit", "100"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&broken) && stderr.contains("HTML"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2") && stderr.contains("***"),
        "{stderr}"
    );
    let mut want = expected(&traces, None);
    want.retain(|(id, _)| *id != broken);
    same_traces(stored(&env), want);
    // Fixed server: the next pull (from the checkpoint, which stopped before the
    // broken window) completes the store.
    fake.with(|b| b.permanent = None);
    let (code, _, stderr) = env.run(&[
        "pull", "tempo", "--url", &url, "--end", END, "--window", "2d", "--limit", "100",
    ]);
    assert_eq!(code, 0, "{stderr}");
    same_traces(stored(&env), expected(&traces, None));
}

#[test]
fn windows_still_full_at_the_minimum_width_fail_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut traces = synth_traces(dir.path());
    traces.truncate(12);
    // Twelve traces starting in the same second.
    for t in &mut traces {
        let shift = t.iter().map(|s| s.start_ns).min().unwrap() - 1_750_000_000_000_000_000;
        for s in t.iter_mut() {
            s.start_ns -= shift;
            s.end_ns -= shift;
        }
    }
    let fake = Fake::start(Kind::Tempo { v2: true }, traces);
    let env = Env::new();
    let (code, _, stderr) = env.run(&pull_args("tempo", &fake.url, &["--limit", "5"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("warning: window") && stderr.contains("5 traces"),
        "{stderr}"
    );
    let (code, _, stderr) = env.run(&pull_args(
        "tempo",
        &fake.url,
        &["--limit", "5", "--allow-partial"],
    ));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning: window"), "{stderr}");
}

#[test]
fn credentials_are_required_and_a_refusal_is_not_retried() {
    let fake = Fake::start(Kind::Zipkin, Vec::new());
    fake.with(|b| b.auth = Some("Basic Y2k6cGFzcw==".into())); // ci:pass
    let env = Env::new();
    let (code, _, stderr) = env.run(&pull_args("zipkin", &fake.url, &["--service", "ci"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("HTTP 401") && stderr.contains("--token"),
        "{stderr}"
    );
    let served = fake.served();
    let distinct: HashSet<&str> = served.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(distinct.len(), served.len(), "401 must not be retried");
    // The pull stops at the refusal: nothing but the searches already in flight
    // (--concurrency, 8) of the 17 windows.
    assert!(
        served.len() <= 8,
        "the pull stops at the refusal: {}",
        served.len()
    );
    let ok = env
        .cmd()
        .env("CI_AUTH", "ci:pass")
        .args(pull_args(
            "zipkin",
            &fake.url,
            &["--service", "ci", "--basic-auth-env", "CI_AUTH"],
        ))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn a_running_trace_waits_for_its_pipeline_span() {
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    let span = |id: &str, parent: Option<&str>| Span {
        trace_id: "0abc".repeat(8),
        span_id: id.repeat(16),
        parent_span_id: parent.map(|p| p.repeat(16)),
        name: format!("span {id}"),
        kind: "internal".into(),
        service: Some("ci".into()),
        start_ns: now - 600_000_000_000,
        end_ns: now - 300_000_000_000,
        ..Span::default()
    };
    let fake = Fake::start(Kind::JaegerV3, vec![vec![span("b", Some("a"))]]);
    let env = Env::new();
    let args = [
        "pull",
        "jaeger",
        "--url",
        &fake.url,
        "--service",
        "ci",
        "--since",
        "1h",
        "--retry-delay",
        "5ms",
    ];
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 still running"), "{stderr}");
    assert_eq!(stored(&env), vec![]);
    // The pipeline span arrives; a pull from the checkpoint stores the whole trace.
    fake.with(|b| b.traces[0].push(span("a", None)));
    let (code, _, stderr) = env.run(&args[..6]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stored(&env), vec![("0abc".repeat(8), 2)]);
}

#[test]
fn api_v3_404_means_no_traces() {
    let fake = Fake::start(Kind::JaegerV3, Vec::new());
    let env = Env::new();
    let (code, _, stderr) = env.run(&pull_args("jaeger", &fake.url, &["--service", "ci"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(" 0 traces"), "{stderr}");
}

/// A measurement, not a check: `cargo test --test pull -- --ignored measure
/// --nocapture` prints, per backend, the summary of pulling the sparse month (600
/// traces, 12 services) with the defaults and with the old hourly windows (`--window
/// 1h --limit 1000`), and how many searches each took. Throughput is `benches/pull.rs`.
#[test]
#[ignore]
fn measure_sparse_month_searches() {
    let traces = fake_backends::month_of_traces(JUNE_NS, 600, 12);
    for kind in [Kind::JaegerV3, Kind::Tempo { v2: true }, Kind::Zipkin] {
        for extra in [&[][..], &["--window", "1h", "--limit", "1000"][..]] {
            let fake = Fake::start(kind, traces.clone());
            let env = Env::new();
            let started = std::time::Instant::now();
            let (code, _, stderr) = env.run(&month_args(kind, &fake.url, extra));
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(code, 0, "{stderr}");
            let searches: usize = fake.searches_by_service().values().sum();
            eprintln!(
                "{kind:?} {extra:?}: {searches} searches, {} requests, {seconds:.1} s",
                fake.served().len()
            );
        }
    }
}

// What the command prints, case by case (exit code, stdout, stderr).

/// Snapshots `pipescope ARGS` as `assert_cli!` does, with the port of the fake (or
/// closed) backend redacted.
fn assert_pull(name: &str, env: &Env, args: &[&str]) {
    let port = [(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]")];
    env.settings_with(args, &port)
        .bind(|| insta::assert_snapshot!(name, env.transcript(args)));
}

#[test]
fn prints_a_summary_of_an_empty_pull() {
    let fake = Fake::start(Kind::Zipkin, Vec::new());
    let env = Env::new();
    let args = [
        "pull",
        "zipkin",
        "--url",
        &fake.url,
        "--service",
        "ci",
        "--start",
        START,
        "--end",
        "2025-06-02",
        "--window",
        "1d",
    ];
    assert_pull("empty_backend", &env, &args);
}

#[test]
fn an_unreachable_backend_and_a_refusal() {
    let env = Env::new();
    // Port 1 on loopback: nothing listens there, the connection is refused. A month
    // of two services: one error, not one per window or service.
    let closed = [
        "pull",
        "jaeger",
        "--url",
        "http://127.0.0.1:1",
        "--service",
        "ci",
        "--service",
        "deploy",
        "--start",
        START,
        "--end",
        JUNE_END,
        "--max-attempts",
        "2",
        "--retry-delay",
        "5ms",
    ];
    assert_pull("unreachable", &env, &closed);
    let fake = Fake::start(Kind::Zipkin, Vec::new());
    fake.with(|b| b.auth = Some("Bearer right".into()));
    let refused = [
        "pull",
        "zipkin",
        "--url",
        &fake.url,
        "--service",
        "ci",
        "--start",
        START,
        "--end",
        "2025-06-02",
        "--window",
        "1d",
        "--token",
        "wrong",
    ];
    assert_pull("refused", &env, &refused);
}

#[test]
fn bad_arguments() {
    let env = Env::new();
    let url = "http://127.0.0.1:1";
    assert_pull("no_url", &env, &["pull", "jaeger", "--service", "ci"]);
    assert_pull("no_backend", &env, &["pull", "--url", url]);
    assert_pull("unknown_backend", &env, &["pull", "grafana", "--url", url]);
    let window = ["pull", "tempo", "--url", url, "--window", "abc"];
    assert_pull("bad_window", &env, &window);
    let reversed = [
        "pull",
        "tempo",
        "--url",
        url,
        "--start",
        "2025-06-05",
        "--end",
        "2025-06-01",
    ];
    assert_pull("empty_range", &env, &reversed);
    let since = ["pull", "tempo", "--url", url, "--since", "last week"];
    assert_pull("bad_since", &env, &since);
}

#[test]
fn zipkin_without_a_service_lists_them_and_says_when_none_match() {
    let fake = Fake::start(Kind::Zipkin, Vec::new());
    let env = Env::new();
    let args = ["pull", "zipkin", "--url", &fake.url, "--since", "1d"];
    assert_pull("zipkin_no_services", &env, &args);
    assert!(
        fake.served()
            .iter()
            .any(|s| s.target == "/api/v2/services" && s.status == 200)
    );
}

fn backend_name(kind: Kind) -> &'static str {
    match kind {
        Kind::JaegerV3 | Kind::JaegerV1 => "jaeger",
        Kind::Tempo { .. } => "tempo",
        Kind::Zipkin => "zipkin",
    }
}

fn month_args<'a>(kind: Kind, url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "pull",
        backend_name(kind),
        "--url",
        url,
        "--start",
        START,
        "--end",
        JUNE_END,
        "--retry-delay",
        "5ms",
    ];
    args.extend_from_slice(extra);
    args
}

/// The issue's case: a month holding 600 traces over 12 services. Hourly windows took
/// 720 searches per service (8,640 for Jaeger and Zipkin, 720 for Tempo); with the
/// defaults a pull must take at most a tenth of that, and still store every trace.
/// Jaeger and Zipkin list the services themselves (no `--service`).
#[test]
fn a_sparse_month_takes_a_tenth_of_the_searches_of_hourly_windows() {
    let traces = fake_backends::month_of_traces(JUNE_NS, 600, 12);
    for kind in [Kind::JaegerV3, Kind::Tempo { v2: true }, Kind::Zipkin] {
        let fake = Fake::start(kind, traces.clone());
        let env = Env::new();
        let (code, _, stderr) = env.run(&month_args(kind, &fake.url, &[]));
        assert_eq!(code, 0, "{kind:?}: {stderr}");
        same_traces(stored(&env), expected(&traces, None));
        let searches = fake.searches_by_service();
        let services = if kind == Kind::Zipkin || kind == Kind::JaegerV3 {
            12
        } else {
            1
        };
        assert_eq!(searches.len(), services, "{kind:?}: {searches:?}");
        for (service, n) in &searches {
            assert!(*n <= 72, "{kind:?} '{service}': {n} searches");
        }
        if matches!(kind, Kind::Tempo { .. }) {
            // 30 days in windows of at most 168 h, none of them full.
            assert_eq!(searches[""], 5, "{stderr}");
        } else {
            // ci-00 runs half the month, more than the page of 200: its windows split.
            assert!(searches["ci-00"] > 1, "{kind:?}: {searches:?}");
            assert!(searches["ci-05"] == 1, "{kind:?}: {searches:?}");
        }
    }
}

#[test]
fn zipkin_takes_several_services() {
    let traces = fake_backends::month_of_traces(JUNE_NS, 200, 6);
    let fake = Fake::start(Kind::Zipkin, traces.clone());
    let env = Env::new();
    let services = ["--service", "ci-02", "--service", "ci-04"];
    let (code, _, stderr) = env.run(&month_args(Kind::Zipkin, &fake.url, &services));
    assert_eq!(code, 0, "{stderr}");
    let mut want = expected(&traces, Some("ci-02"));
    want.extend(expected(&traces, Some("ci-04")));
    want.sort();
    want.dedup();
    same_traces(stored(&env), want);
    let searched: Vec<String> = fake.searches_by_service().into_keys().collect();
    assert_eq!(searched, ["ci-02", "ci-04"]);
    assert!(!fake.served().iter().any(|s| s.target == "/api/v2/services"));
}

/// A month whose 10 June holds a release day: 250 of its 300 traces start within one
/// hour, so with a small page the first window, its halves and theirs come back full
/// and are split down to windows holding fewer than the limit.
fn month_with_a_dense_hour() -> Vec<Vec<Span>> {
    let mut traces = fake_backends::month_of_traces(JUNE_NS, 300, 3);
    let hour = JUNE_NS + 9 * 86_400_000_000_000 + 14 * 3_600_000_000_000;
    for (i, t) in traces.iter_mut().take(250).enumerate() {
        let first = t.iter().map(|s| s.start_ns).min().unwrap();
        let shift = hour + (i as i64 * 14_389_000_000) % 3_600_000_000_000 - first;
        for s in t.iter_mut() {
            s.start_ns += shift;
            s.end_ns += shift;
        }
    }
    traces
}

#[test]
fn a_dense_hour_is_split_until_every_trace_is_fetched_once() {
    let traces = month_with_a_dense_hour();
    let fake = Fake::start(Kind::Tempo { v2: true }, traces.clone());
    let env = Env::new();
    let args = month_args(Kind::Tempo { v2: true }, &fake.url, &["--limit", "40"]);
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(" 300 traces,"), "{stderr}");
    same_traces(stored(&env), expected(&traces, None));
    let fetches = fake.fetches_by_trace();
    let want: HashSet<String> = traces.iter().map(|t| t[0].trace_id.clone()).collect();
    let got: HashSet<String> = fetches.keys().cloned().collect();
    assert_eq!(got, want);
    let twice: Vec<_> = fetches.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
    let searches = fake.searches_by_service()[""];
    // 250 traces in an hour at 40 a page: at least 7 final windows there.
    assert!((14..=72).contains(&searches), "{searches} searches");

    // Jaeger answers searches with whole traces: each is handed on once too.
    let fake = Fake::start(Kind::JaegerV3, traces.clone());
    let env = Env::new();
    let args = month_args(
        Kind::JaegerV3,
        &fake.url,
        &["--service", "ci-00", "--limit", "40"],
    );
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    let want = expected(&traces, Some("ci-00"));
    assert!(
        stderr.contains(&format!(" {} traces,", want.len())),
        "{stderr}"
    );
    same_traces(stored(&env), want);
}

/// An adaptive pull (default windows, many of them split) stopped by a fatal error
/// resumes from its checkpoint: nothing lost, and nothing the checkpoint covers is
/// fetched again (but for the re-read overlap).
#[test]
fn an_interrupted_adaptive_pull_resumes_without_refetching() {
    let traces = month_with_a_dense_hour();
    let fake = Fake::start(Kind::Tempo { v2: true }, traces.clone());
    fake.with(|b| b.fatal_after = Some(200));
    let env = Env::new();
    let limit = ["--limit", "30", "--concurrency", "1"];
    let (code, _, stderr) = env.run(&month_args(Kind::Tempo { v2: true }, &fake.url, &limit));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("HTTP 403"), "{stderr}");
    let part: HashSet<String> = stored(&env).into_iter().map(|(id, _)| id).collect();
    assert!(
        !part.is_empty() && part.len() < traces.len(),
        "{} of {}: {stderr}",
        part.len(),
        traces.len()
    );
    let dir = env.data().join("pull-checkpoints");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let cp: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let covered_end = cp["covered_end_ns"].as_i64().unwrap();
    let first_run = fake.served().len();

    fake.with(|b| b.fatal_after = None);
    let args = [
        "pull",
        "tempo",
        "--url",
        &fake.url,
        "--end",
        JUNE_END,
        "--retry-delay",
        "5ms",
        "--limit",
        "30",
    ];
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("from the checkpoint"), "{stderr}");
    same_traces(stored(&env), expected(&traces, None));
    let start_of = |id: &str| {
        let t = traces.iter().find(|t| t[0].trace_id == id).unwrap();
        t.iter().map(|s| s.start_ns).min().unwrap()
    };
    let overlap = 10 * 60 * 1_000_000_000;
    let refetched: Vec<String> = fake.served()[first_run..]
        .iter()
        .filter_map(|s| s.target.strip_prefix("/api/v2/traces/"))
        .filter(|id| part.contains(*id) && start_of(id) < covered_end - overlap)
        .map(str::to_string)
        .collect();
    assert!(refetched.is_empty(), "fetched again: {refetched:?}");
}
