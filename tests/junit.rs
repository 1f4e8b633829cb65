//! `pipescope ingest` on JUnit XML reports, end to end through the binary: a history of
//! Maven Surefire reports of one commit (four runs, one test flaky, one broken, one
//! skipped) written the ways CI leaves them (declaration and comment, BOM, gzip, no
//! `timestamp`, one file per class, the context from flags or from the GitHub Actions
//! environment), then `flaky`, `failures --by test` and `report` on it; ingesting it
//! again changes nothing; detection by content and `--format junit`; which time
//! dates a report without `timestamp`.

mod common;

use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::Env;
use serde_json::{Value, json};

const COMMIT: &str = "c0ffee00d15ea5e0000000000000000000000001";

/// `pipescope ARGS` outside any CI environment, adjusted by `adjust`; returns (exit
/// code, stderr).
fn ingest_with(env: &Env, args: &[&str], adjust: impl FnOnce(&mut Command)) -> (i32, String) {
    let mut cmd = env.cmd_outside_ci();
    cmd.arg("ingest").args(args);
    adjust(&mut cmd);
    let out = cmd.output().expect("run pipescope");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ingest(env: &Env, args: &[&str]) -> (i32, String) {
    ingest_with(env, args, |_| {})
}

/// The flags naming run `run` of the history.
fn run_flags(run: &str) -> Vec<String> {
    [
        "--pipeline",
        "shop-ci",
        "--run-id",
        run,
        "--task",
        "unit",
        "--branch",
        "main",
        "--commit",
        COMMIT,
        "--repo",
        "acme/shop",
    ]
    .map(String::from)
    .to_vec()
}

fn cart_suite(timestamp: Option<&str>, checkout: &str) -> String {
    let timestamp = timestamp
        .map(|t| format!(r#" timestamp="{t}""#))
        .unwrap_or_default();
    format!(
        r#"<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.acme.shop.CartTest" time="1.52" tests="3" errors="0" skipped="1" failures="0"{timestamp} hostname="runner-7">
  <properties>
    <property name="java.version" value="21.0.2"/>
    <property name="surefire.test.class.path" value="/home/runner/work/shop/target/classes:/home/runner/.m2/repository/org/junit/jupiter/junit-jupiter-api/5.10.2/junit-jupiter-api-5.10.2.jar"/>
  </properties>
  <testcase name="testAdd" classname="com.acme.shop.CartTest" time="0.012"/>
  {checkout}
  <testcase name="testLegacyCoupon" classname="com.acme.shop.CartTest" time="0">
    <skipped message="@Disabled: coupons v1 are gone"/>
  </testcase>
</testsuite>"#
    )
}

fn payment_suite(timestamp: Option<&str>, extra: &str) -> String {
    let timestamp = timestamp
        .map(|t| format!(r#" timestamp="{t}""#))
        .unwrap_or_default();
    format!(
        r#"<testsuite name="com.acme.shop.PaymentTest" time="0.061" tests="1" errors="0" skipped="0" failures="1"{timestamp}>
  <testcase name="testRefund" classname="com.acme.shop.PaymentTest" time="0.051">
    <failure message="expected refund to be allowed for order &lt;42&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected refund to be allowed for order <42>
	at com.acme.shop.PaymentTest.testRefund(PaymentTest.java:88)
	at java.base/java.lang.reflect.Method.invoke(Method.java:580)]]></failure>
    <system-out><![CDATA[2026-11-20 10:01:00 INFO  refund rejected: policy=STRICT]]></system-out>
    {extra}
  </testcase>
</testsuite>"#
    )
}

const CHECKOUT_PASSES: &str =
    r#"<testcase name="testCheckout" classname="com.acme.shop.CartTest" time="0.210"/>"#;

const CHECKOUT_FAILS: &str = r#"<testcase name="testCheckout" classname="com.acme.shop.CartTest" time="0.190">
    <failure message="expected: &lt;200&gt; but was: &lt;503&gt;" type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected: &lt;200&gt; but was: &lt;503&gt;
	at com.acme.shop.CartTest.testCheckout(CartTest.java:42)</failure>
  </testcase>"#;

/// Failed first, passed on Surefire's rerun (`-Dsurefire.rerunFailingTestsCount=2`).
const CHECKOUT_FLAKY: &str = r#"<testcase name="testCheckout" classname="com.acme.shop.CartTest" time="0.402">
    <flakyFailure message="Connection reset" type="java.net.SocketException">
      <stackTrace>java.net.SocketException: Connection reset
	at java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:318)</stackTrace>
      <system-out>retrying checkout</system-out>
    </flakyFailure>
  </testcase>"#;

/// A history of four runs of one commit, written as CI leaves the files:
/// run 101: one report with both suites, declaration and a comment;
/// run 102: gzipped, with a BOM;
/// run 103: Surefire reran the failures, and no suite has a `timestamp` (`--time`);
/// run 104: one file per class (only one of them failing), found by a glob, the
/// context from GitHub Actions' environment.
struct History {
    run101: PathBuf,
    run102: PathBuf,
    run103: PathBuf,
    run104_glob: String,
}

fn write_history(env: &Env) -> History {
    let dir = env.dir.path();
    let run101 = env.write(
        "run101.xml",
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Generated by maven-surefire-plugin 3.2.5 -->\n<testsuites name=\"shop\">\n{}\n{}\n</testsuites>\n",
            cart_suite(Some("2026-11-20T10:01:00"), CHECKOUT_PASSES),
            payment_suite(Some("2026-11-20T10:01:02"), ""),
        ),
    );
    let run102 = dir.join("TEST-run102.xml.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let xml102 = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<testsuites>\r\n{}\r\n{}\r\n</testsuites>\r\n",
        cart_suite(Some("2026-11-20T10:02:00Z"), CHECKOUT_FAILS),
        payment_suite(Some("2026-11-20T10:02:02Z"), ""),
    );
    gz.write_all(xml102.as_bytes()).expect("gzip");
    std::fs::write(&run102, gz.finish().expect("gzip")).expect("write run 102");
    let rerun = r#"<rerunFailure message="expected refund to be allowed for order &lt;42&gt;" type="org.opentest4j.AssertionFailedError"><stackTrace>org.opentest4j.AssertionFailedError</stackTrace></rerunFailure>"#;
    let run103 = env.write(
        "run103.xml",
        &format!(
            "<?xml version=\"1.0\"?>\n<testsuites>\n{}\n{}\n</testsuites>",
            cart_suite(None, CHECKOUT_FLAKY),
            payment_suite(None, rerun),
        ),
    );
    // Surefire's own layout: one report per class; only PaymentTest's fails.
    let reports = dir.join("run104/target/surefire-reports");
    std::fs::create_dir_all(&reports).expect("mkdir");
    std::fs::write(
        reports.join("TEST-com.acme.shop.CartTest.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            cart_suite(Some("2026-11-20T10:04:00+01:00"), CHECKOUT_PASSES)
        ),
    )
    .expect("write run 104");
    std::fs::write(
        reports.join("TEST-com.acme.shop.PaymentTest.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            payment_suite(Some("2026-11-20T10:04:02+01:00"), "")
        ),
    )
    .expect("write run 104");
    History {
        run101,
        run102,
        run103,
        run104_glob: format!("{}/TEST-*.xml", reports.display()),
    }
}

/// GitHub Actions' environment for run 104 (a pull request: the head branch wins over
/// the merge ref).
fn github_env(cmd: &mut Command) {
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKFLOW", "shop-ci")
        .env("GITHUB_RUN_ID", "104")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("GITHUB_JOB", "unit")
        .env("GITHUB_HEAD_REF", "main")
        .env("GITHUB_REF_NAME", "17/merge")
        .env("GITHUB_SHA", COMMIT)
        .env("GITHUB_REPOSITORY", "acme/shop");
}

fn ingest_history(env: &Env, h: &History) {
    let expect_stored = |args: Vec<String>, adjust: &dyn Fn(&mut Command)| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = ingest_with(env, &args, adjust);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stderr.contains(" 0 skipped"), "{args:?}: {stderr}");
    };
    let mut args = run_flags("101");
    args.push(env.arg(&h.run101));
    expect_stored(args, &|_| {});
    let mut args = run_flags("102");
    args.push(env.arg(&h.run102));
    expect_stored(args, &|_| {});
    let mut args = run_flags("103");
    args.extend(["--time".into(), "2026-11-20T10:03:00Z".into()]);
    args.push(env.arg(&h.run103));
    expect_stored(args, &|_| {});
    expect_stored(vec![h.run104_glob.clone()], &github_env);
}

/// Selected fields of each row, for assertions that do not depend on every column.
fn pick(rows: &[Value], fields: &[&str]) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            let picked: serde_json::Map<String, Value> = fields
                .iter()
                .map(|f| ((*f).to_owned(), r[*f].clone()))
                .collect();
            Value::Object(picked)
        })
        .collect()
}

#[test]
fn a_junit_history_shows_its_flaky_and_broken_tests() {
    let env = Env::new();
    let history = write_history(&env);
    ingest_history(&env, &history);

    // Four failed runs of shop-ci on one commit, whichever way their context was
    // given; run 104 failed although its first report passed.
    let runs = env.sql(
        "SELECT pipeline, run_id, branch, \"commit\", repo, failed FROM pipeline_runs ORDER BY run_id",
    );
    let run = |id: &str| {
        json!({"pipeline": "shop-ci", "run_id": id, "branch": "main", "commit": COMMIT,
               "repo": "acme/shop", "failed": true})
    };
    assert_eq!(runs, vec![run("101"), run("102"), run("103"), run("104")]);
    assert_eq!(
        env.rows(&["failures"]),
        vec![json!({"branch": "main", "runs": 4, "failed": 4, "failure_rate": 1.0})]
    );
    // Every run has its job; run 104's two reports, one passed and one failed, each
    // hang from their own.
    assert_eq!(
        env.sql(
            "SELECT run_id, COUNT(*) AS jobs, BOOL_OR(outcome = 'fail') AS failed FROM spans \
             WHERE role = 'task' AND task = 'unit' AND pipeline = 'shop-ci' GROUP BY run_id ORDER BY run_id"
        ),
        vec![
            json!({"run_id": "101", "jobs": 1, "failed": true}),
            json!({"run_id": "102", "jobs": 1, "failed": true}),
            json!({"run_id": "103", "jobs": 1, "failed": true}),
            json!({"run_id": "104", "jobs": 2, "failed": true}),
        ]
    );
    // Run 103's suites had no timestamp: `--time` dated them.
    assert_eq!(
        env.sql(
            "SELECT CAST(MIN(start_time) AS VARCHAR) AS t FROM spans WHERE run_id = '103' AND role = 'test'"
        ),
        vec![json!({"t": "2026-11-20T10:03:00Z"})]
    );

    let flaky = env.rows(&["flaky", "--all"]);
    assert_eq!(
        pick(
            &flaky,
            &[
                "test",
                "suite",
                "status",
                "runs",
                "passes",
                "failures",
                "flaky_commits",
                "retry_passes"
            ]
        ),
        vec![
            json!({"test": "com.acme.shop.CartTest.testCheckout", "suite": "com.acme.shop.CartTest",
                   "status": "flaky", "runs": 5, "passes": 3, "failures": 2, "flaky_commits": 1,
                   "retry_passes": 1}),
            json!({"test": "com.acme.shop.PaymentTest.testRefund", "suite": "com.acme.shop.PaymentTest",
                   "status": "broken", "runs": 5, "passes": 0, "failures": 5, "flaky_commits": 0,
                   "retry_passes": 0}),
            json!({"test": "com.acme.shop.CartTest.testAdd", "suite": "com.acme.shop.CartTest",
                   "status": "stable", "runs": 4, "passes": 4, "failures": 0, "flaky_commits": 0,
                   "retry_passes": 0}),
        ]
    );
    // Without --all only the flaky test.
    let only_flaky = env.rows(&["flaky"]);
    assert_eq!(
        pick(&only_flaky, &["test"]),
        vec![json!({"test": "com.acme.shop.CartTest.testCheckout"})]
    );

    let failures = env.rows(&["failures", "--by", "test"]);
    assert_eq!(
        pick(&failures, &["test", "runs", "failed", "failure_rate"]),
        vec![
            json!({"test": "com.acme.shop.PaymentTest.testRefund", "runs": 5, "failed": 5, "failure_rate": 1.0}),
            json!({"test": "com.acme.shop.CartTest.testCheckout", "runs": 5, "failed": 2, "failure_rate": 0.4}),
            json!({"test": "com.acme.shop.CartTest.testAdd", "runs": 4, "failed": 0, "failure_rate": 0.0}),
        ]
    );

    let (code, stdout, stderr) = env.run(&[
        "report",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-21",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("report JSON");
    let report = &report["report"];
    assert_eq!(report["current"]["runs"], 4, "{report}");
    assert_eq!(report["current"]["failed_runs"], 4, "{report}");
    assert_eq!(report["current"]["flaky_tests"], 1, "{report}");
    assert_eq!(
        pick(
            report["flaky"].as_array().expect("flaky rows"),
            &["test", "runs", "failures"]
        ),
        vec![json!({"test": "com.acme.shop.CartTest.testCheckout", "runs": 5, "failures": 2})]
    );
    // The runs last seconds, not the time since the files were written.
    let longest = report["critical_path"]
        .as_array()
        .expect("critical path")
        .iter()
        .filter_map(|row| row["end_s"].as_f64())
        .fold(0.0, f64::max);
    assert!(longest < 60.0, "{longest} s: {}", report["critical_path"]);
}

#[test]
fn a_report_ingested_twice_changes_nothing() {
    let env = Env::new();
    let history = write_history(&env);
    ingest_history(&env, &history);
    let all = "SELECT trace_id, span_id, parent_span_id, name, role, outcome, test_id, run_id, \
               CAST(start_time AS VARCHAR) AS start_time, duration_ns FROM spans \
               ORDER BY trace_id, span_id";
    let before = env.sql(all);
    let flaky_before = env.rows(&["flaky", "--all"]);
    // Runs and jobs (run 104's two reports: one passed, one failed), suites, tests
    // (with run 103's two reruns).
    assert_eq!(before.len(), (4 + 1) * 2 + 4 * 2 + 4 * 4 + 2);

    // The same files again: every span is already stored, and no analysis moves.
    ingest_history(&env, &history);
    let again = ingest_with(
        &env,
        &{
            let mut args = run_flags("101");
            args.push(env.arg(&history.run101));
            args
        }
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        |_| {},
    );
    assert!(
        again.1.contains(" 0 stored, 8 already stored"),
        "{}",
        again.1
    );
    assert_eq!(env.sql(all), before);
    assert_eq!(env.rows(&["flaky", "--all"]), flaky_before);
}

#[test]
fn reports_are_found_by_content_or_by_format() {
    let env = Env::new();
    let xml = cart_suite(Some("2026-11-20T10:01:00"), CHECKOUT_PASSES);
    // A report under a name that says nothing, found by its root element behind
    // leading blank lines and a comment.
    let odd = env.write("results.out", &format!("\n\n<!-- jest-junit -->\n{xml}"));
    let (code, stderr) = ingest(&env, &["--run-id", "r1", &env.arg(&odd)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("5 spans read, 5 stored"), "{stderr}");
    assert!(stderr.contains(" 0 skipped"), "{stderr}");

    // Other XML is not a report, and says what was expected.
    let pom = env.write(
        "pom.xml",
        "<?xml version=\"1.0\"?>\n<project><modelVersion>4.0.0</modelVersion></project>",
    );
    let (code, stderr) = ingest(&env, &[&env.arg(&pom)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("pom.xml: not a recognised trace format"),
        "{stderr}"
    );
    assert!(stderr.contains("JUnit XML"), "{stderr}");

    // --format junit decodes it as a report: the wrong root element is a problem
    // that names the file.
    let (code, stderr) = ingest(&env, &["--format", "junit", &env.arg(&pom)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("skipped:") && l.contains("pom.xml")),
        "{stderr}"
    );

    // --format junit on a report detection would also find, from stdin.
    let out = env
        .cmd_outside_ci()
        .args([
            "ingest",
            "--format",
            "junit",
            "--run-id",
            "r2",
            "--time",
            "2026-11-20T11:00:00Z",
            "-",
        ])
        .write_stdin(cart_suite(None, CHECKOUT_FAILS))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        env.sql("SELECT test, outcome, CAST(start_time AS VARCHAR) AS t FROM spans WHERE run_id = 'r2' AND role = 'test' ORDER BY start_time, test"),
        vec![
            json!({"test": "testAdd", "outcome": "pass", "t": "2026-11-20T11:00:00Z"}),
            json!({"test": "testCheckout", "outcome": "fail", "t": "2026-11-20T11:00:00.012Z"}),
            json!({"test": "testLegacyCoupon", "outcome": "skip", "t": "2026-11-20T11:00:00.202Z"}),
        ]
    );

    // A bad --time is refused before anything is read.
    let (code, stderr) = ingest(&env, &["--time", "last tuesday", &env.arg(&odd)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("last tuesday"), "{stderr}");
}

/// Sets a file's modification time.
fn set_mtime(path: &Path, unix_secs: u64) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open for mtime");
    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_secs))
        .expect("set mtime");
}

#[test]
fn a_report_without_timestamp_is_dated_by_time_else_its_mtime() {
    let env = Env::new();
    let undated = env.write("undated.xml", &cart_suite(None, CHECKOUT_PASSES));
    let dated = env.write(
        "dated.xml",
        &cart_suite(Some("2026-11-20T10:01:00"), CHECKOUT_PASSES),
    );
    for path in [&undated, &dated] {
        set_mtime(path, 1_795_000_000); // 2026-11-18T11:06:40Z
    }
    let start = |run: &str| {
        env.sql(&format!(
            "SELECT CAST(MIN(start_time) AS VARCHAR) AS t FROM spans WHERE run_id = '{run}' AND role = 'test'"
        ))
    };
    let t = |s: &str| vec![json!({ "t": s })];

    let (code, stderr) = ingest(&env, &["--run-id", "mtime", &env.arg(&undated)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        start("mtime"),
        t("2026-11-18T11:06:40Z"),
        "the file's mtime"
    );

    // An explicit --time wins over the mtime (which is often when the report was
    // copied, not when it ran).
    let (code, stderr) = ingest(
        &env,
        &[
            "--run-id",
            "flag",
            "--time",
            "1795003600",
            &env.arg(&undated),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(start("flag"), t("2026-11-18T12:06:40Z"), "--time");

    // The report's own timestamp wins over both.
    let (code, stderr) = ingest(
        &env,
        &["--run-id", "own", "--time", "1795003600", &env.arg(&dated)],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        start("own"),
        t("2026-11-20T10:01:00Z"),
        "the report's timestamp"
    );
}

#[test]
fn without_flags_the_ci_environment_names_the_run() {
    let env = Env::new();
    let report = env.write("junit.xml", &payment_suite(Some("2026-11-20T10:01:02"), ""));
    // GitLab CI: the pipeline id is the run, the job the task; a flag still wins.
    let (code, stderr) = ingest_with(
        &env,
        &["--branch", "release/2.0", &env.arg(&report)],
        |cmd| {
            cmd.env("GITLAB_CI", "true")
                .env("CI_PROJECT_NAME", "shop")
                .env("CI_PIPELINE_ID", "998877")
                .env("CI_JOB_NAME", "test: [jdk21]")
                .env("CI_COMMIT_BRANCH", "main")
                .env("CI_COMMIT_SHA", COMMIT)
                .env("CI_PROJECT_PATH", "acme/shop")
                // A stray variable of another CI system is not read.
                .env("GITHUB_SHA", "ffffffffffffffffffffffffffffffffffffffff");
        },
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        env.sql(
            "SELECT pipeline, run_id, task, branch, \"commit\", repo FROM spans WHERE role = 'test'"
        ),
        vec![
            json!({"pipeline": "shop", "run_id": "998877", "task": "test: [jdk21]",
                    "branch": "release/2.0", "commit": COMMIT, "repo": "acme/shop"})
        ]
    );
}

/// The library entry point `gate --junit` calls: it stores the reports and names the
/// runs they were stored under, as the store has them.
#[test]
fn ingest_junit_names_the_runs_it_stored() {
    use pipescope::ingest::{IngestOptions, ingest_junit};
    use pipescope::source::decode::junit::JunitContext;

    let env = Env::new();
    let a = env.write("a.xml", &cart_suite(None, CHECKOUT_FAILS));
    let b = env.write("b.xml", &payment_suite(None, ""));
    let paths = [env.arg(&a), env.arg(&b)];

    // No run id: each report is its own run, named after its file and mtime.
    let done = ingest_junit(
        &env.data(),
        &paths,
        &JunitContext::default(),
        &IngestOptions::default(),
    )
    .expect("ingest");
    assert_eq!(done.summary.skipped, 0);
    assert_eq!(done.summary.spans_read, 5 + 3);
    assert_eq!(done.run_ids.len(), 2, "{:?}", done.run_ids);
    let stored: Vec<Value> = env.sql("SELECT DISTINCT run_id FROM spans ORDER BY run_id");
    let mut want = done.run_ids.clone();
    want.sort();
    assert_eq!(
        stored,
        want.iter()
            .map(|r| json!({ "run_id": r }))
            .collect::<Vec<_>>()
    );

    // A run id: both reports are that run.
    let ctx = JunitContext {
        run_id: Some("4711".into()),
        commit: Some(COMMIT.into()),
        ..JunitContext::default()
    };
    let done = ingest_junit(&env.data(), &paths, &ctx, &IngestOptions::default()).expect("ingest");
    assert_eq!(done.run_ids, vec!["4711".to_owned()]);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM pipeline_runs WHERE run_id = '4711' AND failed"),
        1
    );
}

/// Surefire writes one report per class; when one class of a job fails and another
/// passes, the job ran once and failed — not two task executions.
#[test]
fn a_job_whose_reports_disagree_is_one_failed_task_run() {
    let env = Env::new();
    let passed = env.write(
        "TEST-com.acme.A.xml",
        r#"<testsuite name="com.acme.A" timestamp="2026-11-01T10:00:00"><testcase name="t" classname="com.acme.A" time="1"/></testsuite>"#,
    );
    let failed = env.write(
        "TEST-com.acme.B.xml",
        r#"<testsuite name="com.acme.B" timestamp="2026-11-01T10:00:02"><testcase name="t" classname="com.acme.B" time="1"><failure message="no"/></testcase></testsuite>"#,
    );
    let flags = run_flags("77");
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (p, f) = (env.arg(&passed), env.arg(&failed));
    args.extend([p.as_str(), f.as_str()]);
    let (code, stderr) = ingest(&env, &args);
    assert_eq!(code, 0, "{stderr}");

    let by_task = env.rows(&["failures", "--by", "task", "--since", "3000d"]);
    let unit: Vec<&Value> = by_task.iter().filter(|r| r["task"] == "unit").collect();
    assert_eq!(unit.len(), 1, "{by_task:#?}");
    assert_eq!(
        (unit[0]["runs"].as_i64(), unit[0]["failed"].as_i64()),
        (Some(1), Some(1)),
        "{by_task:#?}"
    );
    let runs = env.rows(&["failures", "--by", "pipeline", "--since", "3000d"]);
    assert_eq!(
        (runs[0]["runs"].as_i64(), runs[0]["failed"].as_i64()),
        (Some(1), Some(1)),
        "{runs:#?}"
    );
}
