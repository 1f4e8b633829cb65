//! `--cluster df://HOST:PORT`: flaky, failures and bottlenecks run through a Ballista
//! scheduler and two executors, started here in-process on loopback, answer exactly
//! as a local run does — over a directory store, and over a bucket store the
//! executors read from the S3 server (tests/s3). Built only with `--features cluster`
//! (`.ci/run` runs it).

mod common;

use std::process::Command;
use std::time::Duration;

use ballista_core::object_store::{session_config_with_s3_support, session_state_with_s3_support};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use common::s3::{S3Server, answers, local_cmd, ok, rows};
use common::{Env, synth_store, synth_test_data};
use serde_json::Value;

/// What the cluster's scheduler and executors read the store with: the local file
/// system, or also the S3 server at this port (as the released binaries do, from
/// their configuration).
fn cluster_state(s3_port: Option<u16>) -> datafusion::execution::SessionState {
    // Few partitions, so few tasks: executors poll for them, and a test's store is small.
    let mut config = session_config_with_s3_support().with_target_partitions(2);
    if let Some(port) = s3_port {
        for (key, value) in [
            ("s3.access_key_id", "test".to_string()),
            ("s3.secret_access_key", "test".to_string()),
            ("s3.region", "us-east-1".to_string()),
            ("s3.endpoint", format!("http://127.0.0.1:{port}")),
            ("s3.allow_http", "true".to_string()),
        ] {
            config = config.set_str(key, &value);
        }
    }
    session_state_with_s3_support(config).expect("a session state with S3 support")
}

/// A scheduler and two executors of four task slots each; returns the scheduler's port.
/// They live as long as `runtime`.
fn start_cluster(runtime: &tokio::runtime::Runtime, s3_port: Option<u16>) -> u16 {
    let state = cluster_state(s3_port);
    runtime.block_on(async {
        let scheduler = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&state)
            .await
            .expect("start the scheduler");
        let url = format!("http://localhost:{}", scheduler.port());
        for _ in 0..2 {
            let mut tries = 0;
            let client = loop {
                match SchedulerGrpcClient::connect(url.clone()).await {
                    Ok(client) => break client,
                    Err(e) if tries < 100 => {
                        tries += 1;
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("the scheduler at {url} does not answer: {e}"),
                }
            };
            ballista_executor::new_standalone_executor_from_state(client, 4, &state)
                .await
                .expect("start an executor");
        }
        scheduler.port()
    })
}

/// The cluster's log on stderr at `PIPESCOPE_CLUSTER_LOG` (a level: `warn`, `info`).
struct StderrLog(log::LevelFilter);

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= self.0
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
        }
    }
    fn flush(&self) {}
}

fn show_cluster_log() {
    let level = std::env::var("PIPESCOPE_CLUSTER_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(log::LevelFilter::Warn);
    if log::set_boxed_logger(Box::new(StderrLog(level))).is_ok() {
        log::set_max_level(level);
    }
}

/// Plans travel as nested protobuf messages, decoded recursively: the scheduler and
/// executors need deep stacks (in a debug build most of all).
fn runtime() -> tokio::runtime::Runtime {
    show_cluster_log();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(64 << 20)
        .build()
        .expect("a runtime")
}

const ANALYSES: &[&[&str]] = &[
    &["flaky", "--all"],
    &["failures", "--by", "branch"],
    &["failures", "--by", "test", "--bucket", "day"],
    &["bottlenecks"],
    &["bottlenecks", "--by", "step"],
    &[
        "sql",
        "SELECT branch, count(*) AS n FROM spans GROUP BY branch ORDER BY branch",
    ],
];

#[test]
fn flaky_failures_and_bottlenecks_on_a_cluster_answer_as_a_local_run() {
    let runtime = runtime();
    let port = start_cluster(&runtime, None);
    let cluster = format!("df://localhost:{port}");
    let env = synth_store(11);
    let local = answers(ANALYSES, || local_cmd(&env));
    assert!(
        local.iter().all(|rows| !rows.is_empty()),
        "nothing to compare"
    );
    let remote = answers(ANALYSES, || {
        let mut cmd = local_cmd(&env);
        cmd.args(["--cluster", &cluster]);
        cmd
    });
    assert_eq!(remote, local);

    // What runs in Rust on the rows the cluster streams back: compare's statistics
    // for the worst flaky test. (`compare --flaky`'s plan is nested deeper than the
    // scheduler's protobuf decoding allows: see the README.)
    let test = local[0][0]["test"]
        .as_str()
        .expect("a flaky test")
        .to_string();
    let compare = ["compare", "--test", test.as_str(), "--format", "json"];
    let here = ok(local_cmd(&env).args(compare));
    let there = ok(local_cmd(&env).args(["--cluster", &cluster]).args(compare));
    assert_eq!(there, here, "pipescope {compare:?} on the cluster");

    // The flag is used, not ignored: no scheduler there, no answer.
    let nowhere = local_cmd(&env)
        .args(["--cluster", "df://127.0.0.1:9", "flaky"])
        .output()
        .unwrap();
    assert!(!nowhere.status.success(), "answered without its scheduler");
}

#[test]
fn the_cluster_reads_a_bucket_store_and_answers_as_a_local_run() {
    let Some(s3) = S3Server::start() else { return };
    let runtime = runtime();
    let port = start_cluster(&runtime, Some(s3.port));
    let cluster = format!("df://localhost:{port}");
    let local = Env::new();
    synth_test_data(local.dir.path(), 11);
    let traces = local.dir.path().join("traces");
    let (code, stderr) = local.ingest(&[&traces]);
    assert_eq!(code, 0, "{stderr}");
    let cache = local.dir.path().join("cache");
    ok(s3.pipescope("cluster", &cache).arg("ingest").arg(&traces));
    let expected = answers(ANALYSES, || local_cmd(&local));
    let remote = answers(ANALYSES, || {
        let mut cmd = s3.pipescope("cluster", &cache);
        cmd.args(["--cluster", &cluster]);
        cmd
    });
    assert_eq!(remote, expected);
}
