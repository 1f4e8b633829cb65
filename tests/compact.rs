//! `pipescope compact` through the binary: the analyses answer the same before and
//! after, the summary says what was merged, and queries running while it compacts see
//! every span exactly once. (Kills mid-compaction are in `crash.rs`.)

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use common::Env;
use pipescope::store::Store;
use serde_json::Value;

fn span_files(data: &Path) -> usize {
    Store::open_existing(data)
        .and_then(|s| s.parquet_files())
        .expect("list the store")
        .len()
}

/// The answers whose equality after compaction the test checks.
fn answers(env: &Env) -> Vec<String> {
    [
        vec!["flaky", "--all"],
        vec!["failures", "--by", "branch"],
        vec!["failures", "--by", "test", "--bucket", "day"],
        vec!["bottlenecks"],
        // A fixed period: the default one ends now, which moves between the runs.
        vec![
            "report",
            "--format",
            "json",
            "--since",
            "2025-06-15",
            "--until",
            "2025-07-01",
        ],
    ]
    .iter()
    .map(|args| {
        let mut all = args.clone();
        if args[0] != "report" {
            all.extend(["--format", "json"]);
        }
        let (code, stdout, stderr) = env.run(&all);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        stdout
    })
    .collect()
}

#[test]
fn compaction_merges_small_files_and_changes_no_answer() {
    let env = common::fragmented_store(5);
    let before = answers(&env);
    let files = span_files(&env.data());
    let (code, stdout, stderr) = env.run(&["compact", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["files_before"].as_u64(), Some(files as u64));
    let after_files = span_files(&env.data());
    assert_eq!(doc["files_after"].as_u64(), Some(after_files as u64));
    assert!(after_files * 3 < files, "{files} -> {after_files}");
    assert!(
        doc["bytes_after"].as_u64() < doc["bytes_before"].as_u64(),
        "{doc:#}"
    );
    assert!(doc["facts_files_before"].as_u64() > Some(1), "{doc:#}");
    assert_eq!(doc["facts_files_after"], 1);
    assert_eq!(doc["damaged"], serde_json::json!([]));
    assert_eq!(answers(&env), before, "the same answers from fewer files");

    let (code, stdout, _) = env.run(&["compact"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("nothing to compact in "), "{stdout}");
    let (code, stdout, stderr) = env.run(&["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn the_text_summary_names_files_spans_and_bytes() {
    let env = common::fragmented_store(6);
    let (code, stdout, stderr) = env.run(&["compact"]);
    assert_eq!(code, 0, "{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("compacted ")
            && first.contains(" span files into ")
            && first.contains(" bytes/span)"),
        "{stdout}"
    );
    assert!(stdout.contains("trace facts: "), "{stdout}");
}

#[test]
fn queries_racing_a_compaction_see_every_span_once() {
    let env = common::fragmented_store(7);
    let query = "SELECT COUNT(*) AS n, COUNT(DISTINCT trace_id || '/' || span_id) AS d FROM spans";
    let want = env.sql(query);
    let n = want[0]["n"].as_i64().expect("count");
    assert_eq!(want[0]["d"].as_i64(), Some(n));
    let done = AtomicBool::new(false);
    let mut overlapping = 0;
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut answers = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                let (code, stdout, stderr) = env.run(&["sql", query, "--format", "json"]);
                answers.push((started, Instant::now(), code, stdout, stderr));
            }
            answers
        });
        // Let the reader start, then compact while it keeps querying.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let compact_started = Instant::now();
        let (code, _, stderr) = env.run(&["compact"]);
        let compact_ended = Instant::now();
        assert_eq!(code, 0, "{stderr}");
        std::thread::sleep(std::time::Duration::from_millis(300));
        done.store(true, Ordering::Relaxed);
        for (started, ended, code, stdout, stderr) in reader.join().expect("reader") {
            assert_eq!(code, 0, "a query during compaction failed: {stderr}");
            let doc: Value = serde_json::from_str(&stdout).expect("json");
            assert_eq!(doc["rows"], serde_json::json!(want), "{stderr}");
            if started < compact_ended && ended > compact_started {
                overlapping += 1;
            }
        }
    });
    assert!(
        overlapping >= 2,
        "only {overlapping} queries overlapped the compaction"
    );
    // Replaced files a query still held are deleted by the next writer or compaction.
    let (code, _, stderr) = env.run(&["compact"]);
    assert_eq!(code, 0, "{stderr}");
    let journals = std::fs::read_dir(env.data().join("compaction"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(journals, 0);
    assert_eq!(env.sql(query), want);
}
