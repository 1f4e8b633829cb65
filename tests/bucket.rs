//! The store in a bucket (`--data s3://…`), against a real S3-compatible server
//! (moto's, installed by tests/s3/setup.sh from PyPI, started here on 127.0.0.1):
//! every command answers as on a local store, a second writer is held off by the
//! lease, and a kill -9 mid-ingest shows no half file and loses nothing.

mod common;
mod fake_backends;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::s3::{S3Server, answers, local_cmd, ok, rows};
use common::{Env, synth_test_data};
use fake_backends::{Fake, Kind};

/// The analyses compared between a local store and a bucket.
const ANALYSES: &[&[&str]] = &[
    &["flaky", "--all"],
    &["failures", "--by", "branch"],
    &["failures", "--by", "test"],
    &["bottlenecks"],
    &[
        "sql",
        "SELECT trace_id, count(*) AS n FROM spans GROUP BY trace_id ORDER BY trace_id",
    ],
];

fn span_count(cmd: &mut Command) -> i64 {
    let out = ok(cmd.args(["sql", "SELECT count(*) AS n FROM spans", "--format", "json"]));
    rows(&out)[0]["n"].as_i64().expect("a count")
}

#[test]
fn every_command_on_a_bucket_answers_as_on_a_local_store() {
    let Some(s3) = S3Server::start() else { return };
    let local = Env::new();
    synth_test_data(local.dir.path(), 11);
    let traces = local.dir.path().join("traces");
    let (code, stderr) = local.ingest(&[&traces]);
    assert_eq!(code, 0, "{stderr}");
    let expected = answers(ANALYSES, || local_cmd(&local));

    let caches = tempfile::tempdir().unwrap();
    let (writer, reader) = (caches.path().join("a"), caches.path().join("b"));
    // In three ingests, as a receiver's flushes come: several files a day to compact.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for (i, third) in files.chunks(files.len().div_ceil(3)).enumerate() {
        let cache = if i == 1 { &reader } else { &writer };
        ok(s3.pipescope("org/ci", cache).arg("ingest").args(third));
    }
    // A fresh working copy answers from the bucket alone.
    assert_eq!(
        answers(ANALYSES, || s3.pipescope("org/ci", &reader)),
        expected
    );
    let spans_before = s3.keys("org/ci/spans/").len();
    assert!(spans_before > 0, "no span files in the bucket");

    // Ingesting the same traces again stores nothing twice.
    ok(s3.pipescope("org/ci", &writer).arg("ingest").arg(&traces));
    let stored = span_count(&mut local_cmd(&local));
    assert_eq!(span_count(&mut s3.pipescope("org/ci", &reader)), stored);

    // Compaction from the other copy: fewer files, the same answers everywhere.
    ok(s3
        .pipescope("org/ci", &reader)
        .args(["compact", "--target-rows", "100000000"]));
    let spans_after = s3.keys("org/ci/spans/").len();
    assert!(
        spans_after < spans_before,
        "compaction left {spans_after} of {spans_before} span files"
    );
    assert!(
        s3.keys("org/ci/compaction/").is_empty(),
        "a journal was left"
    );
    assert!(
        s3.keys("org/ci/.writer.lease").is_empty(),
        "the lease was left"
    );
    assert_eq!(
        answers(ANALYSES, || s3.pipescope("org/ci", &writer)),
        expected
    );
    assert_eq!(
        answers(ANALYSES, || s3.pipescope("org/ci", &reader)),
        expected
    );
    let check = s3
        .pipescope("org/ci", &writer)
        .arg("check")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "check of the bucket store: {}",
        String::from_utf8_lossy(&check.stdout)
    );

    // Credentials, region and endpoint from a named profile of the shared files.
    let aws = caches.path().join("aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[ci]\naws_access_key_id = test\naws_secret_access_key = test\n",
    )
    .unwrap();
    let config = format!(
        "[profile ci]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:{}\n",
        s3.port
    );
    std::fs::write(aws.join("config"), config).unwrap();
    let mut by_profile = s3.pipescope("org/ci", &caches.path().join("profile"));
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
    ] {
        by_profile.env_remove(var);
    }
    by_profile
        .env("AWS_PROFILE", "ci")
        .env("AWS_SHARED_CREDENTIALS_FILE", aws.join("credentials"))
        .env("AWS_CONFIG_FILE", aws.join("config"));
    assert_eq!(span_count(&mut by_profile), stored);

    // Another prefix is another store.
    let empty = s3
        .pipescope("elsewhere", &caches.path().join("c"))
        .arg("flaky")
        .output();
    let empty = empty.unwrap();
    assert!(!empty.status.success());
    assert!(
        String::from_utf8_lossy(&empty.stderr)
            .contains("no store at s3://pipescope-test/elsewhere"),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );
}

#[test]
fn a_pull_into_a_bucket_stores_what_a_pull_into_a_directory_stores() {
    let Some(s3) = S3Server::start() else { return };
    let work = tempfile::tempdir().unwrap();
    synth_test_data(work.path(), 0);
    let fake = Fake::start(
        Kind::Zipkin,
        fake_backends::traces_in(&work.path().join("traces")),
    );
    let pull = [
        "pull",
        "zipkin",
        "--url",
        &fake.url,
        "--start",
        "2025-06-01",
        "--end",
        "2025-07-05",
        "--window",
        "2d",
        "--retry-delay",
        "5ms",
    ];
    let local = Env::new();
    ok(local_cmd(&local).args(pull));
    let cache = work.path().join("cache");
    ok(s3.pipescope("pulled", &cache).args(pull));
    let by_trace = &ANALYSES[4];
    let json = ["--format", "json"];
    let there = rows(&ok(s3
        .pipescope("pulled", &work.path().join("fresh"))
        .args(*by_trace)
        .args(json)));
    assert_eq!(
        there,
        rows(&ok(local_cmd(&local).args(*by_trace).args(json)))
    );
    assert!(!there.is_empty());
    // The checkpoint is in the bucket: a second pull from a fresh copy resumes.
    assert!(!s3.keys("pulled/pull-checkpoints/").is_empty());
}

#[test]
fn a_second_writer_waits_for_the_lease_and_takes_over_only_an_expired_one() {
    let Some(s3) = S3Server::start() else { return };
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("one.jsonl");
    std::fs::write(&input, common::otlp_line(1, "main", "pass")).unwrap();
    let far = chrono_ms(3_600_000);
    let lease = format!(
        r#"{{"holder":"pipescope receive (pid 7 on ci-3)","taken_ms":0,"expires_ms":{far}}}"#
    );
    s3.put("held/.writer.lease", lease.as_bytes());

    let held = s3
        .pipescope("held", &work.path().join("cache"))
        .args(["--lock-wait", "1s", "ingest"])
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&held.stderr);
    assert!(!held.status.success(), "ingested past a live lease");
    assert!(
        stderr.contains(
            "s3://pipescope-test/held is being written by pipescope receive (pid 7 on ci-3)"
        ),
        "{stderr}"
    );
    assert!(
        s3.keys("held/spans/").is_empty(),
        "published without the lease"
    );

    // Its holder crashed: once expired, the lease is taken over.
    let expired = lease.replace(&far.to_string(), &chrono_ms(-1000).to_string());
    s3.put("held/.writer.lease", expired.as_bytes());
    ok(s3
        .pipescope("held", &work.path().join("cache"))
        .args(["--lock-wait", "1s", "ingest"])
        .arg(&input));
    assert!(!s3.keys("held/spans/").is_empty());
    assert!(
        s3.keys("held/.writer.lease").is_empty(),
        "the lease was not released"
    );
}

#[test]
fn kill_9_mid_ingest_leaves_no_half_file_and_the_next_ingest_loses_nothing() {
    let Some(s3) = S3Server::start() else { return };
    let local = Env::new();
    synth_test_data(local.dir.path(), 5);
    let traces = local.dir.path().join("traces");
    let (code, stderr) = local.ingest(&[&traces]);
    assert_eq!(code, 0, "{stderr}");
    let stored = span_count(&mut local_cmd(&local));
    let expected = answers(ANALYSES, || local_cmd(&local));

    let cache = local.dir.path().join("cache");
    for delay_ms in [300, 900, 1800] {
        let prefix = format!("killed-{delay_ms}");
        let mut child = s3
            .pipescope(&prefix, &cache.join(&prefix))
            .env("PIPESCOPE_PUBLISH_EVERY", "100ms")
            .env("PIPESCOPE_LEASE_FOR", "3s")
            .args(["ingest", "--threads", "1"])
            .arg(&traces)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever is visible is whole: a fresh copy reads it strictly.
        let fresh = local.dir.path().join(format!("fresh-{delay_ms}"));
        let read = s3
            .pipescope(&prefix, &fresh)
            .args([
                "--strict",
                "sql",
                "SELECT count(*) AS n FROM spans",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        if read.status.success() {
            let n = rows(&String::from_utf8_lossy(&read.stdout))[0]["n"].as_i64();
            assert!(
                n.unwrap() <= stored,
                "{n:?} spans after the kill, {stored} in all"
            );
        } else {
            // Killed before its first snapshot: no store yet, said as such.
            let stderr = String::from_utf8_lossy(&read.stderr);
            assert!(
                stderr.contains(&format!("no store at s3://pipescope-test/{prefix}")),
                "{stderr}"
            );
        }
        // The next ingest (once the killed one's lease expired) completes the store.
        ok(s3
            .pipescope(&prefix, &cache.join(&prefix))
            .env("PIPESCOPE_LEASE_FOR", "3s")
            .arg("ingest")
            .arg(&traces));
        let again = local.dir.path().join(format!("again-{delay_ms}"));
        assert_eq!(
            answers(ANALYSES, || {
                let mut cmd = s3.pipescope(&prefix, &again);
                cmd.arg("--strict");
                cmd
            }),
            expected,
            "killed after {delay_ms} ms"
        );
    }
}

/// Now plus `offset_ms`, in ms since the epoch.
fn chrono_ms(offset_ms: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now + offset_ms
}

/// POSTs one OTLP/HTTP JSON request; returns the status.
fn post_otlp(addr: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connect to the receiver");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    stream.write_all(body.as_bytes()).expect("send body");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_receiver_on_a_bucket_publishes_while_it_runs_and_releases_the_lease_on_stop() {
    let Some(s3) = S3Server::start() else { return };
    let work = tempfile::tempdir().unwrap();
    let mut receiver = s3
        .pipescope("received", &work.path().join("cache"))
        .env("PIPESCOPE_PUBLISH_EVERY", "200ms")
        .args(["receive", "--http", "127.0.0.1:0", "--no-grpc"])
        .args([
            "--flush-interval",
            "200ms",
            "--status-interval",
            "0s",
            "--wal",
        ])
        .arg(work.path().join("log"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = receiver.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let addr = loop {
        let line = lines
            .next()
            .expect("the receiver stopped before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("listening: otlp-http http://") {
            break rest.trim_end_matches("/v1/traces").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    for trace in 1..=20 {
        let status = if trace % 3 == 0 { "fail" } else { "pass" };
        let body = common::otlp_line(trace, "main", status);
        assert_eq!(post_otlp(&addr, &body), 200, "trace {trace}");
    }
    // Published while the receiver runs: another copy reads every span.
    let started = Instant::now();
    let reader = work.path().join("reader");
    loop {
        let out = s3
            .pipescope("received", &reader)
            .args(["sql", "SELECT count(*) AS n FROM spans", "--format", "json"])
            .output()
            .unwrap();
        let n = out
            .status
            .success()
            .then(|| rows(&String::from_utf8_lossy(&out.stdout))[0]["n"].as_i64())
            .flatten();
        if n == Some(40) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "after 60 s the bucket holds {n:?} of 40 spans"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        !s3.keys("received/.writer.lease").is_empty(),
        "a running receiver holds the lease"
    );
    let term = Command::new("kill")
        .args(["-TERM", &receiver.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let stopped = receiver.wait().unwrap();
    assert!(stopped.success(), "the receiver stopped with {stopped}");
    assert!(
        s3.keys("received/.writer.lease").is_empty(),
        "the lease was not released"
    );
    assert!(
        s3.keys("received/wal/").is_empty(),
        "the write-ahead log is local"
    );
}

#[test]
fn readers_during_a_compaction_of_a_bucket_count_every_span_once() {
    let Some(s3) = S3Server::start() else { return };
    let local = Env::new();
    synth_test_data(local.dir.path(), 3);
    let traces = local.dir.path().join("traces");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let writer = local.dir.path().join("writer");
    for part in files.chunks(files.len().div_ceil(4)) {
        ok(s3.pipescope("raced", &writer).arg("ingest").args(part));
    }
    let (code, stderr) = local.ingest(&[&traces]);
    assert_eq!(code, 0, "{stderr}");
    let stored = span_count(&mut local_cmd(&local));
    let before = s3.keys("raced/spans/").len();

    let mut compaction = s3
        .pipescope("raced", &writer)
        .env("PIPESCOPE_PUBLISH_EVERY", "20ms")
        .args(["compact", "--target-rows", "100000000"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let reader = local.dir.path().join("reader");
    let mut reads = 0;
    loop {
        let done = compaction.try_wait().unwrap();
        assert_eq!(
            span_count(&mut s3.pipescope("raced", &reader)),
            stored,
            "read {reads} during the compaction"
        );
        reads += 1;
        if let Some(status) = done {
            assert!(status.success(), "compaction: {status}");
            break;
        }
    }
    assert!(reads >= 2, "no read overlapped the compaction");
    assert!(s3.keys("raced/spans/").len() < before);
    assert_eq!(span_count(&mut s3.pipescope("raced", &reader)), stored);
}
