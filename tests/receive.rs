//! `pipescope receive`, the OTLP endpoint: what a session prints from start to stop,
//! the flags it refuses; under damage (tests/receive/durability.rs: malformed bodies,
//! kill -9, load, back-pressure, a concurrent ingest), under abuse
//! (tests/receive/abuse.rs: tokens, in-flight bytes, connection limits, slow and
//! vanishing clients, 2,000 connections), over TLS (tests/receive/tls.rs), with no
//! secret in any output (tests/receive/secrets.rs), and fed by real OpenTelemetry
//! producers (tests/receive/producers.rs). The harness that starts the receiver and
//! speaks HTTP to it is tests/receive/harness.rs; gRPC, HTTPS and raw-socket clients
//! are in tests/receive/clients.rs.

#[path = "receive/abuse.rs"]
mod abuse;
#[path = "receive/clients.rs"]
mod clients;
mod common;
#[path = "receive/durability.rs"]
mod durability;
mod fake_backends;
#[path = "receive/full_disk.rs"]
mod full_disk;
#[path = "receive/harness.rs"]
mod harness;
#[path = "receive/producers.rs"]
mod producers;
#[path = "receive/secrets.rs"]
mod secrets;
#[path = "receive/tls.rs"]
mod tls;

use std::process::Output;
use std::time::Duration;

use common::Env;
use harness::{Receiver, post_proto, request};

/// Loopback addresses carry a port the OS chose.
const PORT: [(&str, &str); 1] = [(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]")];

/// Snapshots `pipescope ARGS`, a command expected to exit at once (bounded by a
/// timeout so that a receiver which starts serving instead fails the test).
fn assert_refused(name: &str, env: &Env, args: &[&str]) {
    let transcript = env.transcript_with(args, |cmd| {
        cmd.timeout(Duration::from_secs(60));
    });
    env.settings_with(args, &PORT)
        .bind(|| insta::assert_snapshot!(name, transcript));
}

#[test]
fn a_session_from_start_to_stop() {
    let env = Env::new();
    let receiver = Receiver::start(&env.data(), &["--status-interval", "0s"]);
    let reply = post_proto(&receiver.http, &request(1, 0, 5)).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (status, stdout, stderr) = receiver.stop_output();
    let out = Output {
        status,
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
    };
    let args = [
        "receive",
        "--http",
        "127.0.0.1:0",
        "--grpc",
        "127.0.0.1:0",
        "--status-interval",
        "0s",
        "--flush-interval",
        "300ms",
    ];
    env.settings_with(&args, &PORT)
        .bind(|| insta::assert_snapshot!("session", common::transcript(&out)));
}

#[test]
fn refuses_what_it_cannot_serve() {
    let env = Env::new();
    let local = ["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"];
    let with_local = |extra: &[&'static str]| [&["receive"], local.as_slice(), extra].concat();
    assert_refused(
        "nothing_to_serve",
        &env,
        &["receive", "--no-http", "--no-grpc"],
    );
    let remote = ["receive", "--http", "0.0.0.0:0", "--grpc", "127.0.0.1:0"];
    assert_refused("remote_needs_allow_remote", &env, &remote);
    let open = [remote.as_slice(), &["--allow-remote"]].concat();
    assert_refused("remote_needs_a_token", &env, &open);
    let missing = with_local(&[
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert_refused("tls_cert_missing", &env, &missing);
    assert_refused(
        "tls_key_alone",
        &env,
        &with_local(&["--tls-key", "key.pem"]),
    );
    let tiny = with_local(&["--max-inflight-bytes", "1000"]);
    assert_refused("inflight_below_body_limit", &env, &tiny);
    let token = with_local(&["--token-env", "PIPESCOPE_TEST_UNSET_TOKEN"]);
    assert_refused("token_variable_unset", &env, &token);
    assert_refused("bad_address", &env, &["receive", "--http", "localhost"]);
    let flush = with_local(&["--flush-interval", "soon"]);
    assert_refused("bad_flush_interval", &env, &flush);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let busy = ["receive", "--http", &taken, "--grpc", "127.0.0.1:0"];
    assert_refused("address_in_use", &env, &busy);
}
