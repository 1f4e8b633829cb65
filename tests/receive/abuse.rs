//! `pipescope receive` against hostile or broken clients, on loopback: who may send
//! (token rules on both protocols), how much it reads at once (in-flight bytes,
//! connections), slow and vanishing clients, oversized headers, and 2,000 open
//! connections. Every wait is a loop bounded by a deadline; timeouts are generous for
//! a loaded 2-core machine, and the server-side timeouts the tests set are short.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::clients::{
    CALL_TIMEOUT, answered_or_closed, closed_by_peer, connect, grpc_export, grpc_partial_call,
    raise_open_files, read_until_closed, rss_kb,
};
use crate::harness::{Receiver, binary, count, post, post_proto, request, trace_hex};

const PROTO: (&str, &str) = ("Content-Type", "application/x-protobuf");

/// Polls `done` every 50 ms until it holds, failing after `within`.
fn eventually(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// When a 2 s server timeout must have struck: far later than it should on a loaded
/// machine, yet before the 30 s defaults (hyper's header timeout, `--body-timeout`)
/// would, so that a timeout flag which is ignored fails the test.
const CUT_OFF_WITHIN: Duration = Duration::from_secs(20);

/// Spans stored for trace `trace` (after the receiver stopped).
fn stored(data: &std::path::Path, trace: u64) -> i64 {
    count(
        data,
        &format!(
            "SELECT count(*) FROM spans WHERE trace_id = '{}'",
            trace_hex(trace)
        ),
    )
}

/// The number before `label` in the receiver's final `stopped; receive: …` line.
fn counter(stderr: &str, label: &str) -> u64 {
    let line = stderr
        .lines()
        .rfind(|l| l.starts_with("stopped; receive:"))
        .unwrap_or_else(|| panic!("no final counters:\n{stderr}"));
    let before = &line[..line
        .find(label)
        .unwrap_or_else(|| panic!("no '{label}' in {line}"))];
    before
        .trim_end()
        .rsplit([' ', ','])
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before '{label}' in {line}"))
}

/// Request head for a protobuf POST of `len` bytes (the body follows separately).
fn head(addr: &str, len: usize, extra: &str) -> String {
    format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {len}\r\n{extra}\r\n"
    )
}

#[test]
fn remote_listening_needs_a_token_or_insecure_no_auth() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let remote = [
        "--http",
        "0.0.0.0:0",
        "--grpc",
        "127.0.0.1:0",
        "--allow-remote",
    ];
    let out = std::process::Command::new(binary())
        .arg("--data")
        .arg(&data)
        .arg("receive")
        .args(remote)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no token is required")
            && stderr.contains("--token-env")
            && stderr.contains("--insecure-no-auth"),
        "{stderr}"
    );

    // --insecure-no-auth: served, with a warning, and anyone may send.
    let args = [
        remote.as_slice(),
        &["--insecure-no-auth", "--status-interval", "0s"],
    ]
    .concat();
    let receiver = Receiver::start_exact(&data, &args, &[]);
    assert!(
        receiver.stderr().contains("warning: 0.0.0.0:")
            && receiver.stderr().contains("accepts spans from anyone"),
        "{}",
        receiver.stderr()
    );
    let port = receiver.http.rsplit(':').next().unwrap();
    let r = post_proto(&format!("127.0.0.1:{port}"), &request(1, 0, 2)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    receiver.stop();

    // With a token there is nothing to warn about.
    let args = [
        remote.as_slice(),
        &["--token-env", "RECV_TOKEN", "--status-interval", "0s"],
    ]
    .concat();
    let receiver = Receiver::start_exact(&data, &args, &[("RECV_TOKEN", "t")]);
    assert!(
        !receiver.stderr().contains("warning"),
        "{}",
        receiver.stderr()
    );
    receiver.stop();
}

#[test]
fn a_wrong_or_missing_token_is_refused_on_both_protocols() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let token = "correct-horse-battery";
    let receiver = Receiver::start_with_env(
        &data,
        &["--token-env", "RECV_TOKEN"],
        &[("RECV_TOKEN", token)],
    );
    let (http, grpc) = (receiver.http.clone(), receiver.grpc.clone());
    let bearer = format!("Bearer {token}");
    let wrong = [
        None,
        Some("Bearer correct-horse-batterx".to_string()), // same length, last byte differs
        Some("Bearer correct-horse".to_string()),         // a prefix
        Some(format!("{bearer}y")),                       // longer
        Some(format!("Basic {token}")),                   // another scheme
    ];
    for (i, auth) in wrong.iter().enumerate() {
        let mut headers = vec![PROTO];
        if let Some(auth) = auth {
            headers.push(("Authorization", auth.as_str()));
        }
        let r = post(&http, "/v1/traces", &headers, &request(1, i as u64, 1)).unwrap();
        assert_eq!(r.status, 401, "{auth:?}: {}", r.text());
        let given = auth.as_deref().and_then(|a| a.strip_prefix("Bearer "));
        let status = grpc_export(&grpc, &request(1, i as u64, 1), given, None).unwrap_err();
        assert_eq!(
            status.code(),
            tonic::Code::Unauthenticated,
            "{auth:?}: {status:?}"
        );
    }
    let r = post(
        &http,
        "/v1/traces",
        &[PROTO, ("Authorization", &bearer)],
        &request(2, 0, 3),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    grpc_export(&grpc, &request(2, 3, 4), Some(token), None).unwrap();
    receiver.stop();
    assert_eq!(stored(&data, 1), 0, "nothing refused is stored");
    assert_eq!(stored(&data, 2), 7);
}

#[test]
fn in_flight_bytes_beyond_the_limit_get_503_and_unavailable() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    // A request (trace 1) sent but for its last bytes holds its Content-Length of the
    // budget while the server waits for the rest; `other` does not fit beside it.
    let held_body = request(1, 0, 1200);
    let other = request(2, 0, 600);
    // Room for the held body and half of `other`; after the held one is answered,
    // for a gRPC call of `other` (its body and its decoded copy).
    let budget = held_body.len() + other.len() / 2;
    assert!(budget > 2 * other.len() + 5);
    let (budget, max_body) = (budget.to_string(), (held_body.len() + 100).to_string());
    let receiver = Receiver::start(
        &data,
        &[
            "--max-inflight-bytes",
            &budget,
            "--max-body-bytes",
            &max_body,
        ],
    );
    let (http, grpc) = (receiver.http.clone(), receiver.grpc.clone());
    let hold = || {
        let mut held = connect(&http);
        held.write_all(head(&http, held_body.len(), "").as_bytes())
            .unwrap();
        held.write_all(&held_body[..held_body.len() - 10]).unwrap();
        held
    };
    let mut held = hold();

    // `other` gets 503 with Retry-After (HTTP), UNAVAILABLE (gRPC). The held request
    // may not be read yet when the first attempts arrive: retry until the server is
    // reading it (those early requests are stored, trace 2). An `other` still being
    // read when the held request's headers arrive gets the held one refused instead:
    // then it is sent again.
    let mut refused = None;
    eventually(
        Duration::from_secs(60),
        "a 503 while the budget is held",
        || {
            let r = post_proto(&http, &other).unwrap();
            assert!(matches!(r.status, 200 | 503), "{}: {}", r.status, r.text());
            let busy = r.status == 503;
            refused = busy.then_some(r);
            if !busy && answered_or_closed(&held) {
                held = hold();
            }
            busy
        },
    );
    let refused = refused.unwrap();
    assert_eq!(refused.header("retry-after"), Some("1"));
    let status = grpc_export(&grpc, &other, None, None).unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    // Small requests still fit beside the held one.
    let r = post_proto(&http, &request(3, 0, 5)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    grpc_export(&grpc, &request(3, 5, 5), None, None).unwrap();

    // Once the held request is answered its bytes are free again.
    held.write_all(&held_body[held_body.len() - 10..]).unwrap();
    let reply = String::from_utf8_lossy(&read_response(&mut held)).into_owned();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert_eq!(post_proto(&http, &request(4, 0, 600)).unwrap().status, 200);
    grpc_export(&grpc, &request(5, 0, 600), None, None).unwrap();
    let stderr = receiver.stop();
    assert!(counter(&stderr, "busy (429/503)") >= 2, "{stderr}");
    assert_eq!(stored(&data, 1), 1200);
    assert_eq!(stored(&data, 3), 10);
    assert_eq!(stored(&data, 4) + stored(&data, 5), 1200);
}

/// Reads one HTTP response (head and Content-Length body) from a kept-open stream.
fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return got;
            }
        }
        let n = stream.read(&mut buf).expect("read a response");
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn connections_beyond_the_limit_are_closed_and_open_ones_keep_working() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(
        &data,
        &["--max-connections", "4", "--header-timeout", "300s"],
    );
    let (http, grpc) = (receiver.http.clone(), receiver.grpc.clone());
    // The accept loop takes connections in the order the kernel completed them, so
    // these four hold the slots before the fifth is looked at.
    let mut open: Vec<TcpStream> = (0..4).map(|_| connect(&http)).collect();
    let mut fifth = connect(&http);
    let started = Instant::now();
    let _ = read_until_closed(&mut fifth);
    assert!(started.elapsed() < CALL_TIMEOUT, "closed at once");
    // The limit is shared: a gRPC connection is refused as well.
    let refused = grpc_export(&grpc, &request(9, 0, 1), None, None);
    assert!(refused.is_err(), "{refused:?}");

    // The four keep working (keep-alive, several requests each).
    for (i, stream) in open.iter_mut().enumerate() {
        for round in 0..2u64 {
            let body = request(1, i as u64 * 10 + round, 1);
            stream
                .write_all(head(&http, body.len(), "").as_bytes())
                .unwrap();
            stream.write_all(&body).unwrap();
            let reply = String::from_utf8_lossy(&read_response(stream)).into_owned();
            assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        }
    }
    // Closing them frees the slots (once the server has seen the close).
    drop(open);
    eventually(
        Duration::from_secs(60),
        "a new connection is served",
        || post_proto(&http, &request(2, 0, 1)).is_ok_and(|r| r.status == 200),
    );
    grpc_export(&grpc, &request(2, 1, 1), None, None).unwrap();
    let stderr = receiver.stop();
    assert!(counter(&stderr, "connections refused") >= 2, "{stderr}");
    assert_eq!(stored(&data, 1), 8);
    assert_eq!(stored(&data, 9), 0);
}

#[test]
fn slow_headers_are_cut_off_and_an_idle_grpc_connection_is_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &["--header-timeout", "2s"]);
    let (http, grpc) = (receiver.http.clone(), receiver.grpc.clone());

    // Slowloris: one byte of the head every 250 ms (the whole head would take 90 s).
    let mut slow = connect(&http);
    let text = head(&http, 10, &"X-Pad: slow\r\n".repeat(20));
    let started = Instant::now();
    let mut sent = 0;
    for byte in text.bytes() {
        if closed_by_peer(&slow) || slow.write_all(&[byte]).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(sent < text.len(), "the whole slow head was accepted");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "cut off before --header-timeout"
    );
    assert!(
        started.elapsed() < CUT_OFF_WITHIN,
        "not cut off by --header-timeout 2s: {:?}",
        started.elapsed()
    );

    // A gRPC connection that never starts a call is closed too.
    let mut idle = connect(&grpc);
    let started = Instant::now();
    let _ = read_until_closed(&mut idle);
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(
        started.elapsed() < CUT_OFF_WITHIN,
        "{:?}",
        started.elapsed()
    );

    // Meanwhile (and after) normal clients are served.
    assert_eq!(post_proto(&http, &request(1, 0, 3)).unwrap().status, 200);
    grpc_export(&grpc, &request(1, 3, 3), None, None).unwrap();
    receiver.stop();
    assert_eq!(stored(&data, 1), 6);
}

#[test]
fn stalled_and_abandoned_bodies_store_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &["--body-timeout", "2s"]);
    let http = receiver.http.clone();

    // Half a body, then silence: 408 and the connection closed, nothing stored.
    let body = request(1, 0, 50);
    let mut stalled = connect(&http);
    stalled
        .write_all(head(&http, body.len(), "").as_bytes())
        .unwrap();
    stalled.write_all(&body[..body.len() / 2]).unwrap();
    let started = Instant::now();
    let reply = String::from_utf8_lossy(&read_until_closed(&mut stalled)).into_owned();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("--body-timeout"), "{reply}");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(
        started.elapsed() < CUT_OFF_WITHIN,
        "{:?}",
        started.elapsed()
    );

    // Half a body, then the client goes away.
    let body = request(2, 0, 50);
    let mut gone = connect(&http);
    gone.write_all(head(&http, body.len(), "").as_bytes())
        .unwrap();
    gone.write_all(&body[..body.len() / 2]).unwrap();
    drop(gone);

    // Oversized headers: 431 (hyper's HTTP/1 limit, 16 KiB), the server unharmed.
    let big = format!("X-Big: {}\r\n", "a".repeat(20 << 10));
    let body = request(3, 0, 2);
    let mut oversized = connect(&http);
    oversized
        .write_all(head(&http, body.len(), &big).as_bytes())
        .unwrap();
    let _ = oversized.write_all(&body);
    let reply = String::from_utf8_lossy(&read_until_closed(&mut oversized)).into_owned();
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");

    assert_eq!(post_proto(&http, &request(4, 0, 3)).unwrap().status, 200);
    let stderr = receiver.stop();
    assert!(stderr.contains("1 requests, 3 spans"), "{stderr}");
    for trace in 1..=3 {
        assert_eq!(stored(&data, trace), 0, "trace {trace}");
    }
    assert_eq!(stored(&data, 4), 3);
}

#[test]
fn a_stalled_grpc_body_and_oversized_grpc_metadata_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &["--body-timeout", "2s"]);
    let grpc = receiver.grpc.clone();
    let body = request(1, 0, 50);

    // Half the message, then nothing: DEADLINE_EXCEEDED once --body-timeout passed.
    let started = Instant::now();
    let answer = grpc_partial_call(&grpc, &body, body.len() / 2, &[]).unwrap();
    assert_eq!(answer.grpc_status.as_deref(), Some("4"), "{answer:?}");
    assert!(started.elapsed() >= Duration::from_secs(2), "{answer:?}");
    assert!(
        started.elapsed() < CUT_OFF_WITHIN,
        "{:?}",
        started.elapsed()
    );

    // Metadata over the 16 KiB header limit: 431 on that stream (h2's answer to a
    // header list over the SETTINGS_MAX_HEADER_LIST_SIZE the receiver advertises).
    let big = vec![("x-big", "a".repeat(20 << 10))];
    let answer = grpc_partial_call(&grpc, &request(2, 0, 1), usize::MAX, &big).unwrap();
    assert_eq!(answer.http_status, 431, "{answer:?}");

    // The whole message through the same raw client is stored.
    let answer = grpc_partial_call(&grpc, &request(3, 0, 2), usize::MAX, &[]).unwrap();
    assert_eq!(answer.http_status, 200, "{answer:?}");
    assert_eq!(
        answer.grpc_status, None,
        "status in the trailers: {answer:?}"
    );
    receiver.stop();
    assert_eq!(stored(&data, 1), 0);
    assert_eq!(stored(&data, 2), 0);
    assert_eq!(stored(&data, 3), 2);
}

/// Idle connections held open at once, half on each protocol.
const MANY: usize = 2_000;
/// What the receiver's resident memory may reach while holding them: measured at
/// 73 MB (41 MB before; ~16 kB a connection), bounded at about twice that.
const RSS_BOUND_KB: u64 = 160 << 10;

#[test]
fn two_thousand_connections_leave_the_receiver_responsive_and_small() {
    raise_open_files(MANY as u64 + 512);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start(&data, &["--header-timeout", "300s"]);
    let (http, grpc) = (receiver.http.clone(), receiver.grpc.clone());
    let before = rss_kb(receiver.child.id());
    let mut held = Vec::with_capacity(MANY);
    for i in 0..MANY {
        let addr = if i % 2 == 0 { &http } else { &grpc };
        let stream = connect(addr);
        // Half of the HTTP ones have started a request head.
        if i % 4 == 0 {
            let mut s = &stream;
            s.write_all(b"POST /v1/traces HTTP/1.1\r\n").unwrap();
        }
        held.push(stream);
    }
    // Normal exports are served while all of them are open.
    let started = Instant::now();
    assert_eq!(post_proto(&http, &request(1, 0, 10)).unwrap().status, 200);
    grpc_export(&grpc, &request(1, 10, 10), None, None).unwrap();
    let took = started.elapsed();
    assert!(took < CALL_TIMEOUT, "exports took {took:?}");
    let during = rss_kb(receiver.child.id());
    let dropped = held.iter().filter(|s| closed_by_peer(s)).count();
    assert_eq!(
        dropped, 0,
        "the server closed some of the {MANY} connections"
    );
    eprintln!(
        "{MANY} connections: VmRSS {} MB before, {} MB with them open; exports took {took:?}",
        before >> 10,
        during >> 10
    );
    assert!(
        during < RSS_BOUND_KB,
        "VmRSS {during} kB with {MANY} connections (bound {RSS_BOUND_KB} kB)"
    );
    drop(held);
    receiver.stop();
    assert_eq!(stored(&data, 1), 20);
}
