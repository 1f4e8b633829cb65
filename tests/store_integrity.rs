//! A store with a damaged file, as a user meets it: every analysis answers from the
//! rest (exit 2, the file named on stderr), `--strict` fails (exit 1), `pipescope
//! check` finds the file (text and JSON, with its days and traces), `check --repair`
//! moves it into `<data>/quarantine/`, and afterwards everything is clean. One test
//! per kind of damage; each compares the answered counts with the undamaged store's.
//! Also the store's format version: a newer store is refused, an older one is read.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{Env, attr};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};

/// Days of the test store, each its own partition file.
const DAYS: [&str; 3] = ["2025-06-14", "2025-06-15", "2025-06-16"];
/// The day whose file the tests damage.
const DAMAGED_DAY: &str = "2025-06-15";
/// Pipeline runs per day (two spans each), trace ids `d * 100 + r + 1`.
const RUNS_PER_DAY: usize = 4;

/// Spans per day, reading every span's ids (a bare `count(*)` could be answered from
/// the footers alone, never touching a damaged data page).
const PER_DAY: &str = "SELECT date, count(DISTINCT trace_id || span_id) AS spans FROM spans GROUP BY date ORDER BY date";

/// A store with [`RUNS_PER_DAY`] runs on each of [`DAYS`].
fn store() -> Env {
    let env = Env::new();
    let mut lines = String::new();
    for (d, _) in DAYS.iter().enumerate() {
        for r in 0..RUNS_PER_DAY {
            lines += &run_line(d as u32 * 100 + r as u32 + 1, d as i64);
            lines.push('\n');
        }
    }
    let path = env.write("runs.jsonl", &lines);
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 0, "ingest failed: {stderr}");
    env
}

/// One OTLP/JSON line: a pipeline span and a test below it, `day` days after
/// 2025-06-14 12:00 UTC.
fn run_line(trace: u32, day: i64) -> String {
    let start = 1_749_902_400_000_000_000i64 + day * 86_400_000_000_000;
    let ns = |offset_s: i64| (start + offset_s * 1_000_000_000).to_string();
    json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "ci"), attr("vcs.ref.head.name", "main")]},
        "scopeSpans": [{"spans": [
            {"traceId": format!("{trace:032x}"), "spanId": "00000000000000a1", "name": "pipeline",
             "startTimeUnixNano": ns(0), "endTimeUnixNano": ns(60),
             "attributes": [attr("cicd.pipeline.name", "build"), attr("cicd.pipeline.result", "success")]},
            {"traceId": format!("{trace:032x}"), "spanId": "00000000000000a2", "parentSpanId": "00000000000000a1",
             "name": "test_login", "startTimeUnixNano": ns(1), "endTimeUnixNano": ns(2),
             "attributes": [attr("test.case.name", "test_login"), attr("test.case.result.status", "pass")]}
        ]}]
    }]})
    .to_string()
}

/// The one span file of `day`.
fn day_file(env: &Env, day: &str) -> PathBuf {
    let dir = env.data().join(format!("spans/date={day}"));
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("partition")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// `(date, spans)` of [`PER_DAY`] from `stdout` (JSON), for every day but `without`.
fn per_day(stdout: &str) -> Vec<(String, i64)> {
    let doc: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["date"].as_str().expect("date").to_string(),
                r["spans"].as_i64().expect("spans"),
            )
        })
        .collect()
}

fn expected_per_day(without: Option<&str>) -> Vec<(String, i64)> {
    DAYS.iter()
        .filter(|d| Some(**d) != without)
        .map(|d| (d.to_string(), 2 * RUNS_PER_DAY as i64))
        .collect()
}

/// What a kind of damage is expected to do.
struct Case {
    /// The file named as damaged.
    file: PathBuf,
    /// `problem` in `check --format json`.
    problem: &'static str,
    /// The day whose spans are no longer answered (`None`: a stray file held none).
    lost_day: Option<&'static str>,
    /// Whether the trace ids can still be read (the footer survives).
    traces_readable: bool,
}

/// Runs the whole story on a damaged store: analyses, `--strict`, `check` in text
/// and JSON, `--repair`, and a clean store afterwards.
fn assert_damage_handled(env: &Env, case: Case) {
    let file = case.file.display().to_string();
    let warning = format!("warning: skipping damaged store file {file}: ");

    // Analyses answer from the rest, exit 2, and name the file.
    let (code, stdout, stderr) = env.run(&["sql", PER_DAY, "--format", "json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&warning), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("; run pipescope check"),
        "{stderr}"
    );
    assert_eq!(per_day(&stdout), expected_per_day(case.lost_day));
    if case.problem != "data" {
        // Found before planning, so every analysis leaves it out the same way.
        for analysis in [vec!["failures"], vec!["flaky"], vec!["bottlenecks"]] {
            let (code, _, stderr) = env.run(&analysis);
            assert_eq!(code, 2, "{analysis:?}: {stderr}");
            assert!(stderr.contains(&warning), "{analysis:?}: {stderr}");
        }
        let (code, stdout, _) = env.run(&["failures", "--format", "json"]);
        assert_eq!(code, 2);
        let doc: Value = serde_json::from_str(&stdout).expect("json");
        let runs = 2 + i64::from(case.lost_day.is_none());
        assert_eq!(
            doc["rows"][0]["runs"].as_i64(),
            Some(runs * RUNS_PER_DAY as i64)
        );
    }

    // --strict fails, naming the file.
    let (code, stdout, stderr) = env.run(&["--strict", "sql", PER_DAY]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(&format!("damaged store file {file}: ")),
        "{stderr}"
    );
    assert!(!stderr.contains("warning:"), "{stderr}");

    // check finds it, in text and JSON.
    let (code, text, stderr) = env.run(&["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(text.contains(&format!("damaged {file}\n")), "{text}");
    if let Some(day) = case.lost_day {
        assert!(text.contains(&format!("  days:    {day}\n")), "{text}");
    }
    let (code, json_out, _) = env.run(&["check", "--format", "json"]);
    assert_eq!(code, 2);
    let doc: Value = serde_json::from_str(&json_out).expect("check json");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["clean"], false);
    let damaged = doc["damaged"].as_array().expect("damaged");
    assert_eq!(damaged.len(), 1, "{doc:#}");
    assert_eq!(damaged[0]["path"], file);
    assert_eq!(damaged[0]["problem"], case.problem, "{doc:#}");
    let day = case.file.parent().and_then(|p| p.file_name()).expect("dir");
    let day = day
        .to_string_lossy()
        .trim_start_matches("date=")
        .to_string();
    assert_eq!(damaged[0]["days"], json!([day]));
    if case.traces_readable {
        let traces = damaged[0]["traces"].as_array().expect("traces");
        assert_eq!(traces.len(), RUNS_PER_DAY, "{doc:#}");
        assert!(text.contains(&format!("({RUNS_PER_DAY})")), "{text}");
    } else {
        assert_eq!(damaged[0]["traces"], Value::Null, "{doc:#}");
        assert!(text.contains("traces:  unknown"), "{text}");
    }

    // --repair moves it (and its record) into quarantine/.
    let (code, text, stderr) = env.run(&["check", "--repair"]);
    assert_eq!(code, 2, "damage was found: {stderr}");
    let relative = case.file.strip_prefix(env.data()).expect("in the store");
    let quarantined = env.data().join("quarantine").join(relative);
    assert!(
        text.contains(&format!("moved {file} -> {}\n", quarantined.display())),
        "{text}"
    );
    assert!(quarantined.is_file() && !case.file.exists());

    // Afterwards: clean, no warning, exit 0, and the same answer from the rest.
    let (code, text, stderr) = env.run(&["check"]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{text}");
    assert!(text.ends_with("clean\n"), "{text}");
    let (code, stdout, stderr) = env.run(&["sql", PER_DAY, "--format", "json"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(per_day(&stdout), expected_per_day(case.lost_day));
    let (code, _, stderr) = env.run(&["--strict", "failures"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[test]
fn the_undamaged_store_is_clean_and_answers_everything() {
    let env = store();
    let (code, stdout, stderr) = env.run(&["sql", PER_DAY, "--format", "json"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(per_day(&stdout), expected_per_day(None));
    for args in [
        vec!["check"],
        vec!["check", "--quick"],
        vec!["check", "--repair"],
    ] {
        let (code, text, stderr) = env.run(&args);
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}: {text}");
        assert!(text.ends_with("clean\n"), "{text}");
    }
    let (_, json_out, _) = env.run(&["check", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json_out).expect("json");
    assert_eq!(doc["clean"], true);
    assert_eq!(doc["format_version"], 3);
    assert_eq!(doc["decoded"], true);
    assert_eq!(doc["unrecorded"], json!([]));
    // Three span files and one trace-facts file, all recorded by the writer.
    assert_eq!(doc["files"], 4);
    assert!(!env.data().join("quarantine").exists());
}

#[test]
fn a_truncated_file() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    let size = std::fs::metadata(&file).expect("size").len();
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..size as usize / 2]).expect("truncate");
    let (_, text, _) = env.run(&["check", "--quick"]);
    assert!(
        text.contains(&format!(
            "(truncated: {} of the {size} bytes written)",
            size / 2
        )),
        "{text}"
    );
    assert_damage_handled(
        &env,
        Case {
            file,
            problem: "footer",
            lost_day: Some(DAMAGED_DAY),
            traces_readable: false,
        },
    );
}

#[test]
fn a_stray_file_that_is_not_parquet() {
    let env = store();
    let file = env
        .data()
        .join(format!("spans/date={DAMAGED_DAY}/notes.parquet"));
    std::fs::write(&file, "these are not the spans you are looking for\n").expect("write");
    assert_damage_handled(
        &env,
        Case {
            file,
            problem: "footer",
            lost_day: None,
            traces_readable: false,
        },
    );
}

#[test]
fn a_zero_byte_file() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    std::fs::write(&file, b"").expect("empty");
    let (_, text, _) = env.run(&["check"]);
    assert!(text.contains("empty file (0 bytes)"), "{text}");
    assert_damage_handled(
        &env,
        Case {
            file,
            problem: "footer",
            lost_day: Some(DAMAGED_DAY),
            traces_readable: false,
        },
    );
}

#[test]
fn a_file_with_another_schema() {
    let env = store();
    let file = env
        .data()
        .join(format!("spans/date={DAMAGED_DAY}/part-other.parquet"));
    let schema = Arc::new(Schema::new(vec![
        Field::new("trace_id", DataType::Int64, false),
        Field::new("what", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec![Some("a"), None])),
        ],
    )
    .expect("batch");
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&file).expect("create"), schema, None)
            .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    let (_, text, _) = env.run(&["check"]);
    assert!(
        text.contains(
            "not the store's schema: column trace_id is Int64, not Utf8; no column span_id"
        ),
        "{text}"
    );
    assert_damage_handled(
        &env,
        Case {
            file,
            problem: "schema",
            lost_day: None,
            traces_readable: false,
        },
    );
}

#[test]
fn a_row_count_that_differs_from_the_writers_record() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    let relative = file
        .strip_prefix(env.data())
        .expect("in store")
        .to_path_buf();
    let record_path = env
        .data()
        .join("manifest")
        .join(format!("{}.json", relative.display()));
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(&record_path).expect("record"))
            .expect("record json");
    assert_eq!(
        record["rows"],
        2 * RUNS_PER_DAY as i64,
        "the writer's own count"
    );
    record["rows"] = json!(2 * RUNS_PER_DAY + 5);
    std::fs::write(&record_path, record.to_string()).expect("rewrite record");
    let (_, text, _) = env.run(&["check", "--quick"]);
    assert!(
        text.contains(&format!(
            "holds {} rows, but the writer recorded {}",
            2 * RUNS_PER_DAY,
            2 * RUNS_PER_DAY + 5
        )),
        "{text}"
    );
    assert_damage_handled(
        &env,
        Case {
            file,
            problem: "row_count",
            lost_day: Some(DAMAGED_DAY),
            traces_readable: true,
        },
    );
    assert!(
        env.data()
            .join("quarantine/manifest")
            .join(format!("{}.json", relative.display()))
            .is_file(),
        "the record moves with its file"
    );
}

/// Overwrites the header of the first page of `column` in row group 1: the footer
/// stays intact, so only a query that reads the column (or a full check) sees it.
fn corrupt_page(file: &Path, column: &str) {
    let reader =
        SerializedFileReader::new(std::fs::File::open(file).expect("open")).expect("footer");
    let chunk = reader
        .metadata()
        .row_group(0)
        .columns()
        .iter()
        .find(|c| c.column_path().string() == column)
        .expect("column")
        .clone();
    let offset = chunk
        .dictionary_page_offset()
        .unwrap_or(chunk.data_page_offset()) as usize;
    let mut bytes = std::fs::read(file).expect("read");
    for b in &mut bytes[offset..offset + 24] {
        *b = 0xff;
    }
    std::fs::write(file, bytes).expect("write");
}

#[test]
fn a_corrupt_data_page() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    corrupt_page(&file, "span_id");
    // The footer is intact: a quick check cannot see this; the full one can.
    let (code, text, _) = env.run(&["check", "--quick"]);
    assert_eq!(code, 0, "{text}");
    let (_, text, _) = env.run(&["check"]);
    assert!(text.contains("row group 1 of 1 does not decode"), "{text}");
    assert_damage_handled(
        &env,
        Case {
            file,
            problem: "data",
            lost_day: Some(DAMAGED_DAY),
            traces_readable: true,
        },
    );
}

#[test]
fn flipped_bytes_that_still_decode_are_caught_by_the_full_check() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    let mut bytes = std::fs::read(&file).expect("read");
    // A flipped bit in a value's bytes decodes to another value: only the writer's
    // checksum tells. (If it happens not to decode, the check says so instead.)
    let middle = bytes.len() / 3;
    bytes[middle] ^= 0x01;
    std::fs::write(&file, bytes).expect("write");
    let (code, json_out, _) = env.run(&["check", "--format", "json"]);
    assert_eq!(code, 2, "{json_out}");
    let doc: Value = serde_json::from_str(&json_out).expect("json");
    let problem = doc["damaged"][0]["problem"].as_str().expect("problem");
    assert!(["checksum", "data"].contains(&problem), "{doc:#}");
    assert_eq!(doc["damaged"][0]["path"], file.display().to_string());
}

#[test]
fn a_store_of_a_newer_format_is_refused_by_every_command() {
    let env = store();
    assert_eq!(
        std::fs::read_to_string(env.data().join("FORMAT")).expect("FORMAT"),
        "3\n",
        "a new store records its format"
    );
    std::fs::write(env.data().join("FORMAT"), "4\n").expect("write");
    let input = env.write("more.jsonl", &run_line(999, 0));
    // Said as the error, or (ingest) as its cause.
    let message = format!(
        "store at {} has format version 4; this pipescope reads up to 3; upgrade pipescope\n",
        env.data().display()
    );
    let commands: Vec<Vec<String>> = [
        vec!["flaky"],
        vec!["failures"],
        vec!["bottlenecks"],
        vec!["sql", "SELECT 1"],
        vec!["check"],
        vec!["check", "--repair"],
        vec!["quarantine"],
        vec!["report", "--format", "json"],
        vec!["ingest", &input.display().to_string()],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(String::from).collect())
    .collect();
    for command in &commands {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = env.run(&args);
        assert_eq!(code, 2, "{command:?}: {stderr}");
        assert!(stdout.is_empty(), "{command:?}: {stdout}");
        assert!(stderr.starts_with("error: "), "{command:?}: {stderr}");
        assert!(stderr.contains(&message), "{command:?}: {stderr}");
    }
    let (code, _, stderr) = env.run(&["gate", "--current-run", "x"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("has format version 4"), "{stderr}");
    // Nothing was written to the store it refused.
    assert_eq!(
        std::fs::read_to_string(env.data().join("FORMAT")).expect("FORMAT"),
        "4\n"
    );
}

#[test]
fn a_store_from_before_format_versions_is_read_and_migrated_by_the_next_writer() {
    let env = store();
    // What an older pipescope left: no FORMAT, no records.
    std::fs::remove_file(env.data().join("FORMAT")).expect("rm FORMAT");
    std::fs::remove_dir_all(env.data().join("manifest")).expect("rm manifest");
    let (code, stdout, stderr) = env.run(&["sql", PER_DAY, "--format", "json"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(per_day(&stdout), expected_per_day(None));
    let (code, text, _) = env.run(&["check"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("4 files have no recorded row count (written by an older pipescope"),
        "{text}"
    );
    let (_, json_out, _) = env.run(&["check", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json_out).expect("json");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["unrecorded"].as_array().map(Vec::len), Some(4));
    // A truncated old file is still found, by its footer alone.
    let file = day_file(&env, DAMAGED_DAY);
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() - 10]).expect("truncate");
    let (code, text, _) = env.run(&["check", "--quick"]);
    assert_eq!(code, 2, "{text}");
    std::fs::write(&file, &bytes).expect("restore");

    // The next writer migrates it: FORMAT 3, and its own file is recorded.
    let input = env.write("more.jsonl", &run_line(999, 5));
    let (code, stderr) = env.ingest(&[&input]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(env.data().join("FORMAT")).expect("FORMAT"),
        "3\n"
    );
    let (_, json_out, _) = env.run(&["check", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json_out).expect("json");
    assert_eq!(doc["format_version"], 3);
    assert_eq!(doc["files"], 6, "{doc:#}");
    assert_eq!(
        doc["unrecorded"].as_array().map(Vec::len),
        Some(4),
        "{doc:#}"
    );
}

#[test]
fn every_command_that_reads_the_store_leaves_the_damaged_file_out_and_says_so_once() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    std::fs::write(&file, b"PAR1 and then nothing").expect("damage");
    let warning = format!("warning: skipping damaged store file {}: ", file.display());
    let commands: [&[&str]; 9] = [
        &["flaky"],
        &["compare", "--flaky"],
        &["bottlenecks"],
        &["failures", "--by", "test"],
        &["quarantine"],
        // Three engines (current, previous and whole window): still one warning.
        &["report", "--format", "json"],
        &["delivery"],
        &["dora"],
        &["sql", "SELECT count(*) FROM pipeline_runs"],
    ];
    for command in commands {
        let (code, stdout, stderr) = env.run(command);
        assert_eq!(code, 2, "{command:?}: {stderr}");
        assert_eq!(stderr.matches(&warning).count(), 1, "{command:?}: {stderr}");
        assert!(!stdout.is_empty(), "{command:?} still answers");
        let (code, _, stderr) = env.run(&[&["--strict"], command].concat());
        assert_eq!(code, 1, "{command:?} --strict: {stderr}");
        assert!(
            stderr.contains("error: ") && !stderr.contains("warning:"),
            "{stderr}"
        );
    }
    // The gate reads through the same path: the damaged file is named before it judges.
    let (_, _, stderr) = env.run(&["gate", "--current-run", "none"]);
    assert_eq!(stderr.matches(&warning).count(), 1, "{stderr}");
}

#[test]
fn repair_waits_for_the_writer_lock() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    std::fs::write(&file, b"").expect("damage");
    // Another writer (an ingest, a compaction) holds the lock.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(env.data().join(".writer.lock"))
        .expect("lock file");
    lock.lock().expect("lock");
    let mut repair = std::process::Command::new(common::bin())
        .env("PIPESCOPE_DATA", env.data())
        .args(["check", "--repair"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(repair.try_wait().expect("poll").is_none(), "repair waits");
    assert!(
        file.exists(),
        "nothing moved while another writer holds the lock"
    );
    drop(lock);
    let out = repair
        .wait_with_output()
        .expect("repair ends once the lock is free");
    assert_eq!(out.status.code(), Some(2));
    assert!(!file.exists());
    assert!(String::from_utf8_lossy(&out.stdout).contains("moved "));
}

#[test]
fn a_recorded_file_that_is_gone_is_reported_and_its_record_set_aside() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    std::fs::remove_file(&file).expect("rm");
    let (code, json_out, _) = env.run(&["check", "--format", "json"]);
    assert_eq!(code, 2, "{json_out}");
    let doc: Value = serde_json::from_str(&json_out).expect("json");
    let damaged = &doc["damaged"][0];
    assert_eq!(damaged["path"], file.display().to_string());
    assert_eq!(damaged["problem"], "missing");
    assert_eq!(damaged["recorded_rows"], 2 * RUNS_PER_DAY as i64);
    assert_eq!(damaged["days"], json!([DAMAGED_DAY]));
    assert_eq!(damaged["traces"], Value::Null);
    let (code, text, _) = env.run(&["check", "--repair"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("but it is gone"), "{text}");
    let (code, text, _) = env.run(&["check"]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_damaged_trace_facts_file_is_named_and_has_no_day() {
    let env = store();
    let facts: Vec<PathBuf> = std::fs::read_dir(env.data().join("traces"))
        .expect("traces dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(facts.len(), 1, "{facts:?}");
    let file = &facts[0];
    let bytes = std::fs::read(file).expect("read");
    std::fs::write(file, &bytes[..bytes.len() / 2]).expect("truncate");
    // Every span is still answered; what the facts file added (branches) is not.
    let (code, stdout, stderr) = env.run(&["sql", PER_DAY, "--format", "json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("skipping damaged store file {}", file.display())));
    assert_eq!(per_day(&stdout), expected_per_day(None));
    let (code, text, _) = env.run(&["check"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("  days:    none (trace facts)\n"), "{text}");
    let (code, _, _) = env.run(&["check", "--repair"]);
    assert_eq!(code, 2);
    assert!(
        env.data()
            .join("quarantine/traces")
            .join(file.file_name().expect("name"))
            .is_file()
    );
    let (code, _, stderr) = env.run(&["sql", PER_DAY]);
    assert_eq!((code, stderr.as_str()), (0, ""));
}

#[test]
fn a_corrupt_data_page_is_named_once_however_many_engines_read_it() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    // Every column the report's queries filter and group by.
    for column in ["start_time", "name", "role"] {
        corrupt_page(&file, column);
    }
    let warning = format!("warning: skipping damaged store file {}: ", file.display());
    let args = [
        "report",
        "--format",
        "json",
        "--since",
        "2025-06-14",
        "--now",
        "2025-06-17T00:00:00Z",
    ];
    let (code, stdout, stderr) = env.run(&args);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.matches(&warning).count(), 1, "{stderr}");
    assert!(stderr.contains("does not decode"), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("report json");
    assert!(doc.is_object(), "the report is still written");
    let (code, _, stderr) = env.run(&[&["--strict"], args.as_slice()].concat());
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn ingest_into_a_store_with_a_damaged_file_goes_on_and_restores_its_spans() {
    let env = store();
    let file = day_file(&env, DAMAGED_DAY);
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() / 2]).expect("truncate");
    // The source traces ingested again: the damaged day's spans are stored anew,
    // the other days' are known.
    let mut lines = String::new();
    for d in 0..DAYS.len() {
        for r in 0..RUNS_PER_DAY {
            lines += &run_line(d as u32 * 100 + r as u32 + 1, d as i64);
            lines.push('\n');
        }
    }
    let again = env.write("again.jsonl", &lines);
    let (code, stdout, stderr) = env.run(&["ingest", &again.display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&file.display().to_string()),
        "names the damaged file: {stderr}"
    );
    let summary = format!(
        "{} stored, {} already stored",
        2 * RUNS_PER_DAY,
        4 * RUNS_PER_DAY
    );
    assert!(stderr.contains(&summary), "{stdout}{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour codes in a log: {stderr:?}"
    );
    // Readers still leave the damaged file out: every day answered once.
    let (code, stdout, _) = env.run(&["sql", PER_DAY, "--format", "json"]);
    assert_eq!(code, 2, "the damaged file is still there");
    assert_eq!(per_day(&stdout), expected_per_day(None));
    let (code, _, stderr) = env.run(&["check", "--repair"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, stdout, stderr) = env.run(&["sql", PER_DAY, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(per_day(&stdout), expected_per_day(None));
}
