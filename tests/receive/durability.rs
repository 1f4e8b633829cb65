//! `pipescope receive` under abuse: malformed bodies, kill -9 mid-stream, load,
//! back-pressure, and a concurrent `pipescope ingest`. Requests are sent by a minimal
//! HTTP client (tests/receive/harness.rs) so every byte is under the test's control.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{self, Receiver, count, post, post_proto, request, sql, trace_hex};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;

#[test]
fn malformed_bodies_are_answered_and_the_receiver_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start_with_env(
        &data,
        &[
            "--max-body-bytes",
            "20000",
            "--token-env",
            "RECV_TEST_TOKEN",
        ],
        &[("RECV_TEST_TOKEN", "s3cret")],
    );
    let addr = receiver.http.clone();
    let auth = ("Authorization", "Bearer s3cret");
    let proto = ("Content-Type", "application/x-protobuf");
    let json = ("Content-Type", "application/json");

    // A valid request first: 200 and an empty ExportTraceServiceResponse.
    let good = request(1, 0, 5);
    let r = post(&addr, "/v1/traces", &[proto, auth], &good).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let resp = ExportTraceServiceResponse::decode(r.body.as_slice()).unwrap();
    assert_eq!(resp.partial_success, None);

    // No token, a wrong token.
    let r = post(&addr, "/v1/traces", &[proto], &good).unwrap();
    assert_eq!(r.status, 401);
    let r = post(
        &addr,
        "/v1/traces",
        &[proto, ("Authorization", "Bearer nope")],
        &good,
    )
    .unwrap();
    assert_eq!(r.status, 401);

    // Truncated protobuf: 400 with a google.rpc.Status naming the problem.
    let r = post(&addr, "/v1/traces", &[proto, auth], &good[..good.len() - 7]).unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    assert!(
        r.text().contains("not an OTLP ExportTraceServiceRequest"),
        "{}",
        r.text()
    );

    // Invalid JSON: 400 with a JSON status carrying serde's position.
    let r = post(
        &addr,
        "/v1/traces",
        &[json, auth],
        br#"{"resourceSpans": [ {"#,
    )
    .unwrap();
    assert_eq!(r.status, 400);
    let status: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(status["code"], 3);
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with("invalid JSON") && message.contains("column"),
        "{message}"
    );

    // Wrong content type and wrong encoding: 415.
    let r = post(
        &addr,
        "/v1/traces",
        &[("Content-Type", "text/plain"), auth],
        b"hi",
    )
    .unwrap();
    assert_eq!(r.status, 415);
    assert!(r.text().contains("text/plain"));
    let r = post(
        &addr,
        "/v1/traces",
        &[proto, auth, ("Content-Encoding", "br")],
        &good,
    )
    .unwrap();
    assert_eq!(r.status, 415);

    // Oversized, as sent and after gzip inflation: 413.
    let r = post(&addr, "/v1/traces", &[proto, auth], &vec![0u8; 30_000]).unwrap();
    assert_eq!(r.status, 413);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 100_000]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 20_000);
    let r = post(
        &addr,
        "/v1/traces",
        &[json, auth, ("Content-Encoding", "gzip")],
        &bomb,
    )
    .unwrap();
    assert_eq!(r.status, 413);
    let r = post(
        &addr,
        "/v1/traces",
        &[json, auth, ("Content-Encoding", "gzip")],
        b"not gzip",
    )
    .unwrap();
    assert_eq!(r.status, 400);

    // Wrong path and method.
    assert_eq!(
        post(&addr, "/v1/metrics", &[proto, auth], &good)
            .unwrap()
            .status,
        404
    );

    // gzip-compressed protobuf with one undecodable span: 200 with partial_success.
    let mut req = ExportTraceServiceRequest::decode(request(2, 0, 3).as_slice()).unwrap();
    req.resource_spans[0].scope_spans[0].spans[1].span_id = vec![1, 2, 3];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&req.encode_to_vec()).unwrap();
    let r = post(
        &addr,
        "/v1/traces",
        &[proto, auth, ("Content-Encoding", "gzip")],
        &gz.finish().unwrap(),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let partial = ExportTraceServiceResponse::decode(r.body.as_slice())
        .unwrap()
        .partial_success
        .expect("partial_success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("span id"),
        "{}",
        partial.error_message
    );

    // The same in JSON.
    let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"000000000000000000000000000000aa","spanId":"00000000000000a1","name":"ok","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"},
        {"traceId":"zz","spanId":"00000000000000a2","name":"bad","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}]}]}]}"#;
    let r = post(&addr, "/v1/traces", &[json, auth], body).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(doc["partialSuccess"]["rejectedSpans"], 1, "{doc}");

    // Still serving after all of that.
    let r = post(&addr, "/v1/traces", &[proto, auth], &request(3, 0, 4)).unwrap();
    assert_eq!(r.status, 200);
    let stderr = receiver.stop();
    assert!(
        stderr.contains("12 spans (0.0 MB) acknowledged, 2 spans rejected"),
        "{stderr}"
    );
    assert_eq!(count(&data, "SELECT count(*) FROM spans"), 5 + 2 + 1 + 4);
}

#[test]
fn kill_9_loses_no_acknowledged_span_and_stores_none_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &["--flush-interval", "150ms"]);
    let addr = receiver.http.clone();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        std::thread::spawn(move || {
            for trace in 0..5_000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match post_proto(&addr, &request(trace, 0, 20)) {
                    Ok(r) if r.status == 200 => acked.lock().unwrap().push(trace),
                    Ok(r) => panic!("unexpected {}: {}", r.status, r.text()),
                    Err(_) => break, // the receiver is gone
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 60 {
        assert!(Instant::now() < deadline, "producer made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    receiver.kill9(); // while the producer is sending
    stop.store(true, Ordering::Relaxed);
    producer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        std::fs::read_dir(data.join("wal")).unwrap().count() > 1,
        "the kill should leave write-ahead segments to replay"
    );

    // Restart: the WAL is replayed into the store. A client retrying its last
    // acknowledged request sends spans the store already has.
    let receiver = Receiver::start(&data, &[]);
    let last = *acked.last().unwrap();
    assert_eq!(
        post_proto(&receiver.http, &request(last, 0, 20))
            .unwrap()
            .status,
        200
    );
    receiver.stop();

    let per_trace = spans_per_trace(&data);
    for trace in &acked {
        assert_eq!(
            per_trace.get(&trace_hex(*trace)),
            Some(&20),
            "trace {trace}"
        );
    }
    // At most the one request in flight at the kill was stored without an ack.
    assert!(
        per_trace.len() <= acked.len() + 1,
        "{} traces",
        per_trace.len()
    );
    assert_eq!(
        std::fs::read_dir(data.join("wal"))
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "wal"))
            .count(),
        0,
        "a clean stop compacts every segment"
    );
}

#[test]
fn load_on_loopback_reports_spans_per_second_and_peak_memory() {
    const THREADS: u64 = 4;
    const REQUESTS: u64 = 50;
    const SPANS: u64 = 500;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &["--flush-interval", "1s"]);
    let bodies: Vec<Vec<Vec<u8>>> = (0..THREADS)
        .map(|t| {
            (0..REQUESTS)
                .map(|i| request(t * REQUESTS + i, 0, SPANS))
                .collect()
        })
        .collect();
    let started = Instant::now();
    let handles: Vec<_> = bodies
        .into_iter()
        .map(|bodies| {
            let addr = receiver.http.clone();
            std::thread::spawn(move || {
                for body in bodies {
                    let r = post_proto(&addr, &body).unwrap();
                    assert_eq!(r.status, 200, "{}", r.text());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = THREADS * REQUESTS * SPANS;
    let rss_mb = receiver.peak_rss_kb() as f64 / 1024.0;
    receiver.stop();
    println!(
        "load: {total} spans in {} requests acknowledged in {seconds:.2}s = {:.0} spans/s; receiver peak RSS {rss_mb:.0} MB",
        THREADS * REQUESTS,
        total as f64 / seconds
    );
    assert_eq!(count(&data, "SELECT count(*) FROM spans"), total as i64);
    assert!(rss_mb > 0.0 && rss_mb < 1024.0, "peak RSS {rss_mb} MB");
}

#[test]
fn a_full_queue_answers_429_with_retry_after() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &["--queue", "1"]);
    let acked_spans = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicU64::new(0));
    let mut next_trace = 0u64;
    for _burst in 0..20 {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                next_trace += 1;
                let body = request(next_trace, 0, 50);
                let (addr, acked, busy) =
                    (receiver.http.clone(), acked_spans.clone(), busy.clone());
                std::thread::spawn(move || {
                    let r = post_proto(&addr, &body).unwrap();
                    match r.status {
                        200 => {
                            acked.fetch_add(50, Ordering::Relaxed);
                        }
                        429 => {
                            assert_eq!(r.header("retry-after"), Some("1"));
                            busy.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("unexpected {other}: {}", r.text()),
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        if busy.load(Ordering::Relaxed) > 0 {
            break;
        }
    }
    let stderr = receiver.stop();
    assert!(
        busy.load(Ordering::Relaxed) > 0,
        "no 429 from a queue of 1:\n{stderr}"
    );
    assert_eq!(
        count(&data, "SELECT count(*) FROM spans"),
        acked_spans.load(Ordering::Relaxed) as i64,
        "exactly the acknowledged spans are stored"
    );
}

#[test]
fn ingest_waits_for_the_receiver_and_queries_run_meanwhile() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &[]);
    assert_eq!(
        post_proto(&receiver.http, &request(1, 0, 7))
            .unwrap()
            .status,
        200
    );
    // Queries read the store while the receiver writes it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&data, "SELECT count(*) FROM spans") < 7 {
        assert!(Instant::now() < deadline, "spans never compacted");
        std::thread::sleep(Duration::from_millis(100));
    }

    let file = tmp.path().join("more.json");
    std::fs::write(
        &file,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"000000000000000000000000000000bb","spanId":"00000000000000b1","name":"from-ingest","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}]}]}]}"#,
    )
    .unwrap();
    let mut ingest = Command::new(harness::binary())
        .arg("--data")
        .arg(&data)
        .args(["-v", "ingest"])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (ingest_stderr, reader) = harness::collect(ingest.stderr.take().unwrap());
    // The ingest says it waits for the writer lock (the receiver holds it): once it
    // has, it must not have finished, however long it took to get there.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ingest_stderr.lock().unwrap().contains("waiting") {
        let status = ingest.try_wait().unwrap();
        assert!(
            status.is_none(),
            "ingest finished ({status:?}) without waiting for the writer lock:\n{}",
            ingest_stderr.lock().unwrap()
        );
        assert!(
            Instant::now() < deadline,
            "ingest never said it was waiting:\n{}",
            ingest_stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        ingest.try_wait().unwrap().is_none(),
        "ingest must wait for the writer lock"
    );
    receiver.stop();
    let status = ingest.wait().unwrap();
    reader.join().unwrap();
    let stderr = ingest_stderr.lock().unwrap().clone();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("waiting"), "{stderr}");
    assert_eq!(count(&data, "SELECT count(*) FROM spans"), 8);
}

/// Restarts killed with SIGKILL at random moments (seeded; `PIPESCOPE_CRASH_SEED`
/// replays): while requests arrive, segments close, compactions write Parquet and
/// delete segments, and while a restart replays the log. Whatever was acknowledged
/// is stored once in the end.
#[test]
fn killed_at_random_points_of_compaction_and_replay_loses_nothing_acknowledged() {
    use rand::{Rng, SeedableRng};
    let seed = std::env::var("PIPESCOPE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("kill points from PIPESCOPE_CRASH_SEED={seed}");
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let acked = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicU64::new(0));
    const KILLS: usize = 50;
    for _ in 0..KILLS {
        let receiver = Receiver::start(
            &data,
            &["--flush-interval", "50ms", "--flush-bytes", "20000"],
        );
        let addr = receiver.http.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let producer = {
            let (acked, stop, next) = (acked.clone(), stop.clone(), next.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let trace = next.fetch_add(1, Ordering::Relaxed);
                    match post_proto(&addr, &request(trace, 0, 30)) {
                        Ok(r) if r.status == 200 => acked.lock().unwrap().push(trace),
                        Ok(r) if r.status == 429 || r.status == 503 => {}
                        Ok(r) => panic!("unexpected {}: {}", r.status, r.text()),
                        Err(_) => break, // the receiver is gone
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(rng.random_range(0..600)));
        receiver.kill9();
        stop.store(true, Ordering::Relaxed);
        producer.join().unwrap();
    }
    let receiver = Receiver::start(&data, &[]);
    receiver.stop();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > KILLS, "{} acknowledged", acked.len());
    let per_trace = spans_per_trace(&data);
    for trace in &acked {
        assert_eq!(
            per_trace.get(&trace_hex(*trace)),
            Some(&30),
            "acknowledged trace {trace} after {KILLS} kills"
        );
    }
    // Besides them at most the request in flight at each kill.
    assert!(per_trace.len() <= acked.len() + KILLS);
    eprintln!(
        "{KILLS} kills, {} acknowledged requests, all stored once",
        acked.len()
    );
}

/// Spans per stored trace; panics when a span is stored twice.
fn spans_per_trace(data: &std::path::Path) -> HashMap<String, i64> {
    sql(
        data,
        "SELECT trace_id, count(*) AS n, count(DISTINCT span_id) AS d FROM spans GROUP BY trace_id",
    )
    .into_iter()
    .map(|r| {
        assert_eq!(r["n"], r["d"], "duplicates in {r}");
        (
            r["trace_id"].as_str().unwrap().to_string(),
            r["n"].as_i64().unwrap(),
        )
    })
    .collect()
}
