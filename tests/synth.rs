//! `pipescope synth` as a user meets it: the files it writes, the same bytes for the
//! same seed, the bench preset's size and a truth that counts what its files hold, and
//! bad arguments (its memory is in synth_streaming.rs). What the test preset
//! plants is checked against the analyses in planted_truth.rs.

mod common;

use std::path::Path;

use common::{Env, assert_cli};

/// `name size` of every file in `dir`, sorted.
fn listing(dir: &Path) -> String {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("read output dir")
        .map(|entry| {
            let entry = entry.expect("entry");
            let size = entry.metadata().expect("metadata").len();
            format!("{} {size}", entry.file_name().to_string_lossy())
        })
        .collect();
    files.sort();
    files.join("\n")
}

/// Every file's bytes, by name.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read output dir")
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn writes_the_test_history_and_what_it_planted() {
    let env = Env::new();
    let out = env.dir.path().join("traces");
    let truth = env.dir.path().join("truth.json");
    let (out_arg, truth_arg) = (env.arg(&out), env.arg(&truth));
    let args = [
        "synth", "--preset", "test", "--seed", "1", "--out", &out_arg, "--truth", &truth_arg,
    ];
    assert_cli!("test_preset", env, args);
    insta::assert_snapshot!("test_preset_files", listing(&out));
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth).expect("truth")).expect("JSON");
    let keys: Vec<&str> = truth
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    insta::assert_snapshot!("test_preset_truth_keys", keys.join("\n"));
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let env = Env::new();
    let dir = |name: &str| env.dir.path().join(name);
    for preset in ["test", "bench"] {
        for (name, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
            let out = env.arg(&dir(&format!("{preset}-{name}")));
            let args = [
                "synth", "--preset", preset, "--spans", "5000", "--seed", seed, "--out", &out,
            ];
            let (code, _, stderr) = env.run(&args);
            assert_eq!(code, 0, "{stderr}");
        }
        let [a, b, c] = ["a", "b", "c"].map(|name| contents(&dir(&format!("{preset}-{name}"))));
        assert!(a == b, "{preset}: seed 7 twice");
        assert!(a != c, "{preset}: seeds 7 and 8");
    }
}

#[test]
fn the_bench_preset_is_sized_by_spans() {
    let env = Env::new();
    let out = env.arg(&env.dir.path().join("bench"));
    let args = [
        "synth", "--preset", "bench", "--spans", "2000", "--out", &out,
    ];
    assert_cli!("bench_preset", env, args);
}

#[test]
fn the_bench_truth_counts_what_its_files_hold() {
    // Enough spans for many files, so the truth must add up across every file written
    // while the generation went on.
    let env = Env::new();
    let (out, truth) = (
        env.dir.path().join("bench"),
        env.dir.path().join("truth.json"),
    );
    let (out_arg, truth_arg) = (env.arg(&out), env.arg(&truth));
    let args = [
        "synth", "--preset", "bench", "--spans", "20000", "--out", &out_arg, "--truth", &truth_arg,
    ];
    let (code, _, stderr) = env.run(&args);
    assert_eq!(code, 0, "{stderr}");
    let files = contents(&out);
    assert!(files.len() > 10, "only {} files", files.len());
    let mut traces = std::collections::BTreeSet::new();
    let (mut lines, mut spans) = (0, 0);
    for (name, bytes) in &files {
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let doc: serde_json::Value = serde_json::from_slice(line)
                .unwrap_or_else(|e| panic!("{name}: line {}: {e}", lines + 1));
            lines += 1;
            for rs in doc["resourceSpans"].as_array().expect("resourceSpans") {
                for ss in rs["scopeSpans"].as_array().expect("scopeSpans") {
                    for span in ss["spans"].as_array().expect("spans") {
                        traces.insert(span["traceId"].as_str().expect("traceId").to_string());
                        spans += 1;
                    }
                }
            }
        }
    }
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth).expect("truth")).expect("JSON");
    assert_eq!(truth["spans"], spans);
    assert_eq!(truth["traces"], traces.len());
    assert_eq!(truth["traces"], lines, "one trace a line");
    let runs: u64 = truth["branch_runs"]
        .as_object()
        .expect("branch_runs")
        .values()
        .map(|r| r[0].as_u64().expect("a count"))
        .sum();
    assert_eq!(truth["traces"], runs);
}

#[test]
fn bad_arguments() {
    let env = Env::new();
    assert_cli!("no_out", env, ["synth"]);
    assert_cli!(
        "bad_preset",
        env,
        ["synth", "--preset", "huge", "--out", "x"]
    );
    assert_cli!("bad_seed", env, ["synth", "--seed", "-1", "--out", "x"]);
    let file = env.arg(&env.write("file", ""));
    assert_cli!(
        "out_is_a_file",
        env,
        ["synth", "--preset", "test", "--out", &file]
    );
}

/// The bench preset in each single format writes the same runs: four decoders, four
/// encodings, one store content and one answer. So ingest can be measured per format
/// on equal data, and a decoder that drifts from the others fails here.
#[test]
fn the_same_runs_in_every_single_format_store_the_same_spans_and_answers() {
    let mut answers = Vec::new();
    for format in ["otlp", "otlp-proto", "jaeger", "zipkin"] {
        let env = Env::new();
        let out = env.dir.path().join("traces");
        let args = [
            "synth", "--preset", "bench", "--spans", "6000", "--format", format,
        ];
        let (code, _, stderr) = env.run(&[&args[..], &["--out", &env.arg(&out)]].concat());
        assert_eq!(code, 0, "{format}: {stderr}");
        let (code, stderr) = env.ingest(&[&out]);
        assert_eq!(code, 0, "{format}: {stderr}");
        let spans = env.sql(
            "SELECT trace_id, span_id, parent_span_id, name, role, outcome, start_time, end_time, branch, test_id \
             FROM spans ORDER BY trace_id, span_id",
        );
        assert!(spans.len() > 5000, "{format}: {} spans", spans.len());
        answers.push((format, spans, env.rows(&["flaky", "--all"])));
    }
    let (first, spans, flaky) = &answers[0];
    assert!(!flaky.is_empty(), "no flaky test in the bench data");
    for (format, other_spans, other_flaky) in &answers[1..] {
        assert!(
            spans == other_spans,
            "{format} stored other spans than {first}"
        );
        assert_eq!(flaky, other_flaky, "{format} vs {first}");
    }
}
