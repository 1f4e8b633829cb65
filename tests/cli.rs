//! The command line as a user meets it: inputs of every kind, bad input, exit codes,
//! output formats, user conventions, the demo.

mod common;

use std::io::Write;

use common::Env;
use serde_json::Value;

/// One OTLP/JSON line holding one CI pipeline span on `branch` and a test below it.
fn otlp_line(trace: u32, branch: &str, test_status: &str) -> String {
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

fn write(env: &Env, name: &str, content: &str) -> std::path::PathBuf {
    let path = env.dir.path().join(name);
    std::fs::write(&path, content).expect("write input");
    path
}

#[test]
fn a_malformed_line_is_reported_with_its_position_and_the_rest_is_stored() {
    let env = Env::new();
    let content = format!(
        "{}\n{{\"resourceSpans\": [ oops\n{}\n",
        otlp_line(1, "main", "pass"),
        otlp_line(2, "main", "fail")
    );
    let path = write(&env, "mixed.jsonl", &content);
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("mixed.jsonl:2"), "no position in: {stderr}");
    assert_eq!(env.count("SELECT COUNT(*) FROM spans"), 4);
}

#[test]
fn strict_stops_at_the_first_problem_and_stores_nothing() {
    let env = Env::new();
    let content = format!("{}\nnot json\n", otlp_line(1, "main", "pass"));
    let path = write(&env, "bad.jsonl", &content);
    let (code, stdout, stderr) = env.run(&["ingest", "--strict", &path.display().to_string()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("bad.jsonl:2"),
        "{stderr}"
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM spans"), 0);
}

#[test]
fn gzip_stdin_globs_and_directories_are_all_inputs() {
    let env = Env::new();
    let dir = env.dir.path().join("in");
    std::fs::create_dir_all(dir.join("nested")).expect("dirs");
    std::fs::write(dir.join("a.json"), otlp_line(1, "main", "pass")).expect("a");
    std::fs::write(dir.join("nested/b.json"), otlp_line(2, "main", "pass")).expect("b");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(otlp_line(3, "main", "pass").as_bytes())
        .expect("gzip");
    std::fs::write(env.dir.path().join("c.json.gz"), gz.finish().expect("gzip")).expect("c");

    let glob = format!("{}/*.json", dir.display());
    let (code, _, stderr) = env.run(&[
        "ingest",
        &glob,
        &env.dir.path().join("c.json.gz").display().to_string(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.count("SELECT COUNT(DISTINCT trace_id) FROM spans"), 2);

    let (code, _, stderr) = env.run(&["ingest", &dir.display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        env.count("SELECT COUNT(DISTINCT trace_id) FROM spans"),
        3,
        "nested file via the directory"
    );

    let out = env
        .cmd()
        .args(["ingest", "-"])
        .write_stdin(otlp_line(4, "main", "pass"))
        .output()
        .expect("stdin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.count("SELECT COUNT(DISTINCT trace_id) FROM spans"), 4);
}

#[test]
fn output_formats_carry_the_same_rows() {
    let env = Env::new();
    let path = write(
        &env,
        "runs.jsonl",
        &format!(
            "{}\n{}\n",
            otlp_line(1, "main", "pass"),
            otlp_line(2, "a|b<i>", "fail")
        ),
    );
    assert_eq!(env.ingest(&[&path]).0, 0);

    let (_, json, _) = env.run(&["failures", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["query"], "failures");
    assert_eq!(doc["params"]["by"], "branch");
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(2));

    let (_, csv, _) = env.run(&["failures", "--format", "csv"]);
    assert_eq!(
        csv,
        "branch,runs,failed,failure_rate\na|b<i>,1,1,1\nmain,1,0,0\n"
    );

    let (_, md, _) = env.run(&["failures", "--format", "markdown"]);
    assert_eq!(
        md,
        "| branch | runs | failed | failure_rate |\n| --- | --- | --- | --- |\n| a\\|b&lt;i&gt; | 1 | 1 | 1 |\n| main | 1 | 0 | 0 |\n"
    );

    let (_, table, _) = env.run(&["failures"]);
    assert!(
        table.contains("a|b<i>") && table.contains("failure_rate"),
        "{table}"
    );
}

#[test]
fn errors_say_what_and_exit_2() {
    let env = Env::new();
    let (code, _, stderr) = env.run(&["flaky"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no store at") && stderr.contains("pipescope ingest"),
        "{stderr}"
    );

    let path = write(&env, "one.json", &otlp_line(1, "main", "pass"));
    env.ingest(&[&path]);
    let (code, _, stderr) = env.run(&["flaky", "--since", "last tuesday"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--since") && stderr.contains("7d"),
        "{stderr}"
    );

    let (code, _, stderr) = env.run(&["sql", "SELEKT nothing"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: "), "{stderr}");

    let (code, _, stderr) = env.run(&["ingest", "/no/such/file.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/no/such/file.json"), "{stderr}");

    let (code, _, stderr) = env.run(&["compare", "--test", "no_such_test"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no_such_test"), "{stderr}");
}

#[test]
fn sql_reads_a_file_and_the_shared_views() {
    let env = Env::new();
    let path = write(
        &env,
        "runs.jsonl",
        &format!(
            "{}\n{}\n",
            otlp_line(1, "main", "pass"),
            otlp_line(2, "main", "fail")
        ),
    );
    env.ingest(&[&path]);
    let query = write(
        &env,
        "q.sql",
        "-- runs per branch\nSELECT branch, COUNT(*) AS runs FROM pipeline_runs GROUP BY branch;",
    );
    let rows = env.rows(&["sql", "-f", &query.display().to_string()]);
    assert_eq!(rows, vec![serde_json::json!({"branch": "main", "runs": 2})]);
    let tests = env.sql("SELECT test, failed FROM test_executions ORDER BY failed");
    assert_eq!(tests.len(), 2);
}

#[test]
fn a_conventions_file_adds_keys() {
    let env = Env::new();
    let line = otlp_line(1, "ignored", "pass").replace("vcs.ref.head.name", "acme.branch");
    let path = write(&env, "acme.json", &line);
    let conventions = write(&env, "acme.toml", "[keys]\nbranch = [\"acme.branch\"]\n");
    let (code, _, stderr) = env.run(&[
        "ingest",
        "--conventions",
        &conventions.display().to_string(),
        &path.display().to_string(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        env.count("SELECT COUNT(*) FROM spans WHERE branch = 'ignored'"),
        2
    );

    let bad = write(&env, "bad.toml", "[keys\nbranch = 1\n");
    let (code, _, stderr) = env.run(&[
        "ingest",
        "--conventions",
        &bad.display().to_string(),
        &path.display().to_string(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.toml"), "{stderr}");
}

#[test]
fn filters_narrow_the_analyses() {
    let env = Env::new();
    let path = write(
        &env,
        "runs.jsonl",
        &format!(
            "{}\n{}\n",
            otlp_line(1, "main", "pass"),
            otlp_line(2, "dev", "fail")
        ),
    );
    env.ingest(&[&path]);
    let rows = env.rows(&["failures", "--branch", "dev"]);
    assert_eq!(
        rows,
        vec![serde_json::json!({"branch": "dev", "runs": 1, "failed": 1, "failure_rate": 1.0})]
    );
    assert!(
        env.rows(&["failures", "--since", "2025-06-16"]).is_empty(),
        "both runs are on 2025-06-15"
    );
    assert_eq!(env.rows(&["failures", "--until", "2025-06-16"]).len(), 2);
}

#[test]
fn demo_shows_every_analysis_finding_something() {
    let env = Env::new();
    let (code, stdout, stderr) = env.run(&["demo", "--format", "markdown"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("demo_markdown", stdout);
}
