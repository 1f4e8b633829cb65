//! pipescope killed with SIGKILL at random points, and writing to a full disk.
//!
//! `ingest` is killed while it decodes, writes its temporary files and commits them;
//! `pull` while it fetches, commits a window and writes its checkpoint; `compact`
//! while it rewrites, journals, renames and deletes what it replaced. After every
//! kill the store must hold only whole, readable files and no span twice, a pull's
//! checkpoint must claim nothing that is not stored, and the next complete run must
//! leave exactly the spans an uninterrupted run stores (a killed compaction: exactly
//! the spans it started with, each once, at every point). A full disk is a file-size
//! limit (`prlimit --fsize`: the writes fail with EFBIG as they would with ENOSPC):
//! ingest fails naming the file and the cause, the store is byte for byte as it was,
//! and the next run completes.
//!
//! The kill points come from a seeded generator (`PIPESCOPE_CRASH_SEED` replays a
//! failure; the seed is printed) and their number from `PIPESCOPE_CRASH_POINTS`.

mod common;
mod fake_backends;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Env;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use fake_backends::{Fake, Kind};
use pipescope::model::Span;
use pipescope::store::Store;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// (trace id, span id) of a stored span.
type Key = (String, String);

fn seed() -> u64 {
    let seed = std::env::var("PIPESCOPE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("crash points from PIPESCOPE_CRASH_SEED={seed}");
    seed
}

fn points(default: usize) -> usize {
    std::env::var("PIPESCOPE_CRASH_POINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Every span key of the store, read file by file the way any reader would; panics
/// naming the file when one cannot be read whole, or when a span is stored twice.
fn stored_keys(data: &Path) -> BTreeSet<Key> {
    let Ok(store) = Store::open_existing(data) else {
        return BTreeSet::new();
    };
    let mut keys = BTreeSet::new();
    for file in store.parquet_files().expect("list the store") {
        for key in read_keys(&file) {
            assert!(
                keys.insert(key.clone()),
                "span {key:?} is stored twice (again in {})",
                file.display()
            );
        }
    }
    for file in store.facts_files().expect("list the trace facts") {
        read_all(&file);
    }
    keys
}

fn read_keys(file: &Path) -> Vec<Key> {
    let mut keys = Vec::new();
    for batch in read_all(file) {
        let column = |name: &str| {
            let array = batch
                .column_by_name(name)
                .unwrap_or_else(|| panic!("{} has no {name} column", file.display()));
            cast(array, &DataType::Utf8).expect("ids are strings")
        };
        let (traces, spans) = (column("trace_id"), column("span_id"));
        let (traces, spans) = (traces.as_string::<i32>(), spans.as_string::<i32>());
        for i in 0..batch.num_rows() {
            assert!(!traces.is_null(i) && !spans.is_null(i));
            keys.push((traces.value(i).to_string(), spans.value(i).to_string()));
        }
    }
    keys
}

fn read_all(file: &Path) -> Vec<datafusion::arrow::record_batch::RecordBatch> {
    let opened = std::fs::File::open(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(opened)
        .and_then(|b| b.build())
        .unwrap_or_else(|e| panic!("visible file {} is not whole: {e}", file.display()));
    reader
        .map(|b| b.unwrap_or_else(|e| panic!("visible file {} is not whole: {e}", file.display())))
        .collect()
}

/// Every file under `dir`, at any depth (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Temporary files left in the store (a killed writer's; the next writer removes them).
fn leftovers(data: &Path) -> Vec<PathBuf> {
    files_under(data)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect()
}

/// Starts the binary on `data`; stdout and stderr go to files beside it.
fn spawn(data: &Path, args: &[&str], log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(common::bin())
        .env("PIPESCOPE_DATA", data)
        .env_remove("PIPESCOPE_CONVENTIONS")
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start pipescope")
}

/// Kills `child` with SIGKILL after `delay`, unless it ended before; true when killed.
fn kill_after(mut child: Child, delay: Duration) -> bool {
    let deadline = Instant::now() + delay;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(
                status.success(),
                "the run ended with {status} before its kill"
            );
            return false;
        }
        if Instant::now() >= deadline {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs to completion; panics with its stderr on failure.
fn complete(data: &Path, args: &[&str], log: &Path) -> Duration {
    let started = Instant::now();
    let status = spawn(data, args, log).wait().expect("wait");
    let stderr = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "pipescope {args:?}: {status}\n{stderr}");
    started.elapsed()
}

#[test]
fn ingest_killed_at_random_points_loses_and_duplicates_nothing() {
    let env = Env::new();
    common::synth_test_data(env.dir.path(), 3);
    let traces = env.dir.path().join("traces").display().to_string();
    // Small batches: many writes to temporary files between decoding and the commit.
    let args = ["ingest", traces.as_str(), "--batch-spans", "3000"];
    let log = env.dir.path().join("ingest.log");

    let reference = env.dir.path().join("reference");
    let clean = complete(&reference, &args, &log);
    let want = stored_keys(&reference);
    assert!(want.len() > 5_000, "{} spans", want.len());

    let mut rng = SmallRng::seed_from_u64(seed());
    let data = env.dir.path().join("crashed");
    let (mut kills, mut completions) = (0, 0);
    for attempt in 0.. {
        assert!(attempt < 4 * points(50), "too few runs were killed mid-way");
        // Anywhere in the run, the commit at its end included.
        let delay = clean.mul_f64(rng.random_range(0.0..1.1));
        let killed = kill_after(spawn(&data, &args, &log), delay);
        if killed {
            kills += 1;
            let partial = stored_keys(&data);
            assert!(
                partial.is_subset(&want),
                "a killed ingest stored spans the input does not have"
            );
        }
        // Every few kills (and after a run that ended by itself): finish the work,
        // compare, and start again from an empty store.
        if !killed || kills % 5 == 0 {
            complete(&data, &args, &log);
            completions += 1;
            assert_eq!(stored_keys(&data), want, "after {kills} kills");
            assert!(leftovers(&data).is_empty(), "{:?}", leftovers(&data));
            std::fs::remove_dir_all(&data).expect("reset");
        }
        if kills >= points(50) {
            break;
        }
    }
    eprintln!("{kills} kills, {completions} completed re-runs, clean run {clean:?}");
}

/// The pull checkpoints' covered ranges, minus the traces they leave pending.
fn checkpoint_claims(data: &Path) -> Vec<(i64, i64, BTreeSet<String>)> {
    let Ok(entries) = std::fs::read_dir(data.join("pull-checkpoints")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read checkpoint");
            let doc: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("checkpoint {} is not whole: {e}", p.display()));
            let pending = doc["pending"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["trace_id"].as_str().map(String::from))
                .collect();
            (
                doc["covered_start_ns"].as_i64().expect("covered_start_ns"),
                doc["covered_end_ns"].as_i64().expect("covered_end_ns"),
                pending,
            )
        })
        .collect()
}

#[test]
fn pull_killed_at_random_points_keeps_what_its_checkpoint_claims() {
    let dir = tempfile::tempdir().unwrap();
    common::synth_test_data(dir.path(), 4);
    let traces = fake_backends::traces_in(&dir.path().join("traces"));
    let fake = Fake::start(Kind::Tempo { v2: true }, traces.clone());
    let all_keys: BTreeSet<Key> = traces
        .iter()
        .flatten()
        .map(|s| (s.trace_id.clone(), s.span_id.clone()))
        .collect();
    let start_of = |t: &Vec<Span>| t.iter().map(|s| s.start_ns).min().unwrap_or(0);
    // One window at a time, so that a run is a sequence of commits and checkpoints.
    let first = [
        "pull",
        "tempo",
        "--url",
        &fake.url,
        "--start",
        "2025-06-01",
        "--end",
        "2025-07-05",
        "--window",
        "2d",
        "--concurrency",
        "1",
        "--limit",
        "100",
    ];
    // Resuming: no --start, from the checkpoint.
    let resume = [&first[..4], &first[6..]].concat();
    let log = dir.path().join("pull.log");

    let reference = dir.path().join("reference");
    let clean = complete(&reference, &first, &log);
    let want = stored_keys(&reference);
    assert_eq!(
        want, all_keys,
        "an uninterrupted pull stores the server's spans"
    );

    let mut rng = SmallRng::seed_from_u64(seed());
    let data = dir.path().join("crashed");
    let (mut kills, mut checked_claims) = (0, 0);
    for attempt in 0.. {
        assert!(attempt < 4 * points(50), "too few runs were killed mid-way");
        let args: &[&str] = if data.join("pull-checkpoints").exists() {
            &resume
        } else {
            &first
        };
        let delay = clean.mul_f64(rng.random_range(0.0..1.1));
        let killed = kill_after(spawn(&data, args, &log), delay);
        if killed {
            kills += 1;
            let partial = stored_keys(&data);
            assert!(partial.is_subset(&want));
            for (from, to, pending) in checkpoint_claims(&data) {
                for trace in traces.iter().filter(|t| {
                    (from..to).contains(&start_of(t)) && !pending.contains(&t[0].trace_id)
                }) {
                    checked_claims += 1;
                    for span in trace {
                        assert!(
                            partial.contains(&(span.trace_id.clone(), span.span_id.clone())),
                            "the checkpoint covers trace {} but span {} is not stored",
                            span.trace_id,
                            span.span_id
                        );
                    }
                }
            }
        }
        if !killed || kills % 5 == 0 {
            if data.join("pull-checkpoints").exists() {
                complete(&data, &resume, &log);
            } else {
                complete(&data, &first, &log);
            }
            assert_eq!(stored_keys(&data), want, "after {kills} kills");
            std::fs::remove_dir_all(&data).expect("reset");
        }
        if kills >= points(50) {
            break;
        }
    }
    assert!(checked_claims > 0, "no kill fell after a checkpoint");
    eprintln!("{kills} kills, {checked_claims} claimed traces checked, clean run {clean:?}");
}

/// Every file of the store with its bytes (the lock file aside).
fn snapshot(data: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(data)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != ".writer.lock"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect()
}

#[test]
fn ingest_on_a_full_disk_fails_clearly_and_leaves_the_store_as_it_was() {
    let Some(prlimit) = common::require("prlimit (util-linux)", common::on_path("prlimit")) else {
        return;
    };
    let env = Env::new();
    common::synth_test_data(env.dir.path(), 5);
    let traces = env.dir.path().join("traces");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&traces)
        .expect("traces")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let (first, rest) = files.split_at(files.len() / 3);
    let first: Vec<&Path> = first.iter().map(PathBuf::as_path).collect();
    let (code, stderr) = env.ingest(&first);
    assert_eq!(code, 0, "{stderr}");
    let before = snapshot(&env.data());

    // Files may not grow past 8 KiB: the first Parquet file of the rest fails to write.
    let mut args = vec!["ingest".to_string()];
    args.extend(rest.iter().map(|p| p.display().to_string()));
    let out = Command::new(prlimit)
        .arg("--fsize=8192")
        .arg(common::bin())
        .args(&args)
        .env("PIPESCOPE_DATA", env.data())
        .output()
        .expect("run under prlimit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("File too large") && stderr.contains(&env.data().display().to_string()),
        "the error names the file and the cause: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let after = snapshot(&env.data());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the failed ingest added or removed files"
    );
    assert!(before == after, "the failed ingest changed a stored file");

    // Space again: the same ingest completes, and stores what one ingest of all does.
    let rest: Vec<&Path> = rest.iter().map(PathBuf::as_path).collect();
    let (code, stderr) = env.ingest(&rest);
    assert_eq!(code, 0, "{stderr}");
    let whole = Env::new();
    let (code, stderr) = whole.ingest(&[&traces]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stored_keys(&env.data()), stored_keys(&whole.data()));
}

/// A copy of the directory tree at `from` (files and directories only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[test]
fn compaction_killed_at_random_points_loses_and_duplicates_nothing() {
    let env = common::fragmented_store(4);
    let fragmented = env.data();
    let want = stored_keys(&fragmented);
    let files_before = Store::open_existing(&fragmented)
        .and_then(|s| s.parquet_files())
        .expect("list")
        .len();
    assert!(
        files_before > 60,
        "{files_before} files: too few to compact"
    );
    let log = env.dir.path().join("compact.log");

    let reference = env.dir.path().join("reference");
    copy_tree(&fragmented, &reference);
    let clean = complete(&reference, &["compact"], &log);
    let files_after = Store::open_existing(&reference)
        .and_then(|s| s.parquet_files())
        .expect("list")
        .len();
    assert!(
        files_after * 3 < files_before,
        "{files_before} -> {files_after}"
    );
    assert_eq!(stored_keys(&reference), want);

    let mut rng = SmallRng::seed_from_u64(seed());
    let data = env.dir.path().join("crashed");
    let (mut kills, mut completions) = (0, 0);
    copy_tree(&fragmented, &data);
    for attempt in 0.. {
        assert!(attempt < 4 * points(50), "too few runs were killed mid-way");
        let delay = clean.mul_f64(rng.random_range(0.0..1.1));
        let killed = kill_after(spawn(&data, &["compact"], &log), delay);
        if killed {
            kills += 1;
            // Whatever the kill interrupted, a reader sees every span exactly once.
            assert_eq!(stored_keys(&data), want, "after kill {kills} at {delay:?}");
        }
        // Every few kills the next run completes the work; then start from the
        // fragmented store again (a kill of a run with less left to do is rarer).
        if !killed || kills % 5 == 0 {
            complete(&data, &["compact"], &log);
            completions += 1;
            assert_eq!(stored_keys(&data), want, "after {kills} kills");
            assert!(leftovers(&data).is_empty(), "{:?}", leftovers(&data));
            let journals = files_under(&data.join("compaction"));
            assert!(journals.is_empty(), "{journals:?}");
            let files = Store::open_existing(&data)
                .and_then(|s| s.parquet_files())
                .expect("list");
            assert_eq!(files.len(), files_after, "completed like the clean run");
            let (code, out, stderr) = run_check(&data);
            assert_eq!(code, 0, "check after {kills} kills: {out}{stderr}");
            std::fs::remove_dir_all(&data).expect("reset");
            copy_tree(&fragmented, &data);
        }
        if kills >= points(50) {
            break;
        }
    }
    eprintln!("{kills} kills, {completions} completed re-runs, clean run {clean:?}");
}

/// `pipescope check` on `data`: (exit code, stdout, stderr).
fn run_check(data: &Path) -> (i32, String, String) {
    let out = Command::new(common::bin())
        .env("PIPESCOPE_DATA", data)
        .arg("check")
        .output()
        .expect("run check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
