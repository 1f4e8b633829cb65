//! `pipescope ingest` as a user meets it: inputs of every kind (files, globs,
//! directories, gzip, stdin), bad input and its position, `--strict`, user
//! conventions, and what the command prints in each case. The real traces of
//! ../shared are in ingest_real.rs.

mod common;

use std::io::Write;

use common::{Env, assert_cli, otlp_line};

#[test]
fn a_malformed_line_is_reported_with_its_position_and_the_rest_is_stored() {
    let env = Env::new();
    let content = format!(
        "{}\n{{\"resourceSpans\": [ oops\n{}\n",
        otlp_line(1, "main", "pass"),
        otlp_line(2, "main", "fail")
    );
    let path = env.write("mixed.jsonl", &content);
    let (code, stderr) = env.ingest(&[&path]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("mixed.jsonl:2"), "no position in: {stderr}");
    assert_eq!(env.count("SELECT COUNT(*) FROM spans"), 4);
}

#[test]
fn strict_stops_at_the_first_problem_and_stores_nothing() {
    let env = Env::new();
    let content = format!("{}\nnot json\n", otlp_line(1, "main", "pass"));
    let path = env.write("bad.jsonl", &content);
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
fn a_missing_file_is_named() {
    let env = common::one_run_store();
    let (code, _, stderr) = env.run(&["ingest", "/no/such/file.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/no/such/file.json"), "{stderr}");
}

#[test]
fn a_conventions_file_adds_keys() {
    let env = Env::new();
    let line = otlp_line(1, "ignored", "pass").replace("vcs.ref.head.name", "acme.branch");
    let path = env.write("acme.json", &line);
    let conventions = env.write("acme.toml", "[keys]\nbranch = [\"acme.branch\"]\n");
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

    let bad = env.write("bad.toml", "[keys\nbranch = 1\n");
    let (code, _, stderr) = env.run(&[
        "ingest",
        "--conventions",
        &bad.display().to_string(),
        &path.display().to_string(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.toml"), "{stderr}");
}

// What the command prints, case by case (exit code, stdout, stderr).

#[test]
fn prints_a_summary_of_what_it_stored() {
    let env = Env::new();
    let runs = format!(
        "{}\n{}\n",
        otlp_line(1, "main", "pass"),
        otlp_line(2, "main", "fail")
    );
    let path = env.arg(&env.write("runs.jsonl", &runs));
    assert_cli!("success", env, ["ingest", &path]);
    assert_cli!("again_stores_nothing", env, ["ingest", &path]);
    assert_cli!("quiet", env, ["--quiet", "ingest", &path]);
}

#[test]
fn prints_each_problem_with_its_position() {
    let env = Env::new();
    let content = format!(
        "{}\n{{\"resourceSpans\": [ oops\n{}\n",
        otlp_line(1, "main", "pass"),
        otlp_line(2, "main", "fail")
    );
    let mixed = env.arg(&env.write("mixed.jsonl", &content));
    assert_cli!("malformed_line", env, ["ingest", &mixed]);
    assert_cli!("strict", env, ["ingest", "--strict", &mixed]);
}

#[test]
fn skips_what_is_not_a_trace() {
    let env = Env::new();
    let text = env.arg(&env.write("notes.txt", "hello\n"));
    assert_cli!("not_a_trace", env, ["ingest", &text]);
    let otlp = env.arg(&env.write("one.json", &otlp_line(1, "main", "pass")));
    assert_cli!(
        "forced_format",
        env,
        ["ingest", "--format", "zipkin", &otlp]
    );
    let empty = env.dir.path().join("empty");
    std::fs::create_dir(&empty).expect("dir");
    assert_cli!("empty_directory", env, ["ingest", &env.arg(&empty)]);
}

#[test]
fn reads_stdin() {
    let env = Env::new();
    let args = ["ingest", "-"];
    let stdin = |text: String| move |cmd: &mut assert_cmd::Command| _ = cmd.write_stdin(text);
    env.settings(&args).bind(|| {
        let line = otlp_line(1, "main", "pass");
        insta::assert_snapshot!("stdin", env.transcript_with(&args, stdin(line)));
        let empty = env.transcript_with(&args, stdin(String::new()));
        insta::assert_snapshot!("stdin_empty", empty);
    });
}

#[test]
fn refuses_missing_inputs_and_bad_arguments() {
    let env = Env::new();
    assert_cli!("missing_file", env, ["ingest", "/no/such/file.json"]);
    let glob = format!("{}/*.json", env.dir.path().display());
    assert_cli!("glob_matches_nothing", env, ["ingest", &glob]);
    assert_cli!("no_paths", env, ["ingest"]);
    assert_cli!("bad_format", env, ["ingest", "--format", "xml", "x.json"]);
    let batch = ["ingest", "--batch-spans", "many", "x.json"];
    assert_cli!("bad_batch_spans", env, batch);
    let conventions = env.arg(&env.write("bad.toml", "[keys\nbranch = 1\n"));
    let one = env.arg(&env.write("one.json", &otlp_line(1, "main", "pass")));
    let args = ["ingest", "--conventions", &conventions, &one];
    assert_cli!("bad_conventions", env, args);
}
