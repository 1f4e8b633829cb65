//! No credential appears in what pipescope prints: `receive` with a bearer token and
//! `pull` with `--token-env` / `--token`, each through its success and failure paths
//! (right token, wrong token, no token, bad request, a token too long), with every log
//! target at `trace` level. The secret is random per run so that no fixed string in
//! the code can match it by accident.

use std::process::Command;

use rand::Rng as _;

use crate::clients::grpc_export;
use crate::common::Env;
use crate::fake_backends::{Fake, Kind};
use crate::harness::{Receiver, binary, post, request};

/// Every log line of every crate.
const ALL_LOGS: (&str, &str) = ("PIPESCOPE_LOG", "trace");

fn random_secret() -> String {
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
        .collect()
}

/// Fails if `secret`, or any 12-character piece of it, is in `output`.
fn assert_absent(secret: &str, output: &str, what: &str) {
    assert!(
        !output.is_empty(),
        "{what}: no output at all, nothing was checked"
    );
    for piece in secret.as_bytes().windows(12) {
        let piece = std::str::from_utf8(piece).unwrap();
        assert!(
            !output.contains(piece),
            "{what}: a piece of the secret ({piece}) is in the output:\n{output}"
        );
    }
}

#[test]
fn receive_prints_no_token() {
    let secret = random_secret();
    let wrong = random_secret();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let receiver = Receiver::start_with_env(
        &data,
        &["--token-env", "RECV_SECRET", "--status-interval", "100ms"],
        &[("RECV_SECRET", &secret), ALL_LOGS],
    );
    let (http, grpc) = (receiver.http.clone(), receiver.grpc.clone());
    let proto = ("Content-Type", "application/x-protobuf");
    let good = format!("Bearer {secret}");
    let bad = format!("Bearer {wrong}");
    let body = request(1, 0, 3);
    let ok = post(
        &http,
        "/v1/traces",
        &[proto, ("Authorization", &good)],
        &body,
    )
    .unwrap();
    assert_eq!(ok.status, 200);
    let refused = post(
        &http,
        "/v1/traces",
        &[proto, ("Authorization", &bad)],
        &body,
    )
    .unwrap();
    assert_eq!(refused.status, 401);
    assert_absent(
        &secret,
        &format!("{refused:?}{}", refused.text()),
        "a 401 answer",
    );
    let broken = &body[..body.len() - 3];
    let r = post(
        &http,
        "/v1/traces",
        &[proto, ("Authorization", &good)],
        broken,
    )
    .unwrap();
    assert_eq!(r.status, 400);
    assert_absent(&secret, &r.text(), "a 400 answer");
    assert!(post(&http, "/v1/traces", &[proto], &body).unwrap().status == 401);
    grpc_export(&grpc, &body, Some(&secret), None).unwrap();
    let status = grpc_export(&grpc, &body, Some(&wrong), None).unwrap_err();
    assert_absent(&secret, &format!("{status:?}"), "an UNAUTHENTICATED status");
    assert_absent(&wrong, &format!("{status:?}"), "an UNAUTHENTICATED status");
    grpc_export(&grpc, &body, None, None).unwrap_err();
    let (status, stdout, stderr) = receiver.stop_output();
    assert!(status.success(), "{stderr}");
    let output = format!("{stdout}{stderr}");
    assert!(output.contains("stopped; receive:"), "{output}");
    // The logs were really on (h2 logs every frame at trace level).
    assert!(output.contains("TRACE"), "{output}");
    assert_absent(&secret, &output, "receive's output");
    assert_absent(&wrong, &output, "receive's output");

    // A token the receiver refuses at start is not echoed either.
    let long = secret.repeat(20);
    let out = Command::new(binary())
        .arg("--data")
        .arg(&data)
        .args(["receive", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"])
        .args(["--token-env", "RECV_SECRET"])
        .env("RECV_SECRET", &long)
        .env(ALL_LOGS.0, ALL_LOGS.1)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(output.contains("longer than 512 bytes"), "{output}");
    assert_absent(&secret, &output, "receive refusing a long token");
}

#[test]
fn pull_prints_no_token() {
    let secret = random_secret();
    let wrong = random_secret();
    let fake = Fake::start(Kind::Zipkin, Vec::new());
    fake.with(|b| b.auth = Some(format!("Bearer {secret}")));
    let env = Env::new();
    let base = [
        "pull",
        "zipkin",
        "--url",
        &fake.url,
        "--start",
        "2025-06-01",
        "--end",
        "2025-06-03",
        "--service",
        "ci",
        "--retry-delay",
        "5ms",
        "--timeout",
        "5s",
        "-vv",
    ];
    let run = |extra: &[&str], token: &str| {
        let out = env
            .cmd()
            .args(base)
            .args(extra)
            .env("PULL_SECRET", token)
            .env(ALL_LOGS.0, ALL_LOGS.1)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, output) = run(&["--token-env", "PULL_SECRET"], &secret);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("DEBUG"), "the logs were on: {output}");
    assert_absent(&secret, &output, "a pull with --token-env");
    let (code, output) = run(&["--token-env", "PULL_SECRET"], &wrong);
    assert_eq!(code, Some(2), "{output}");
    assert!(output.contains("HTTP 401"), "{output}");
    assert_absent(&wrong, &output, "a refused pull");
    assert_absent(&secret, &output, "a refused pull");
    // On the command line (visible to other users, but still never printed back).
    let (code, output) = run(&["--token", &secret], "");
    assert_eq!(code, Some(0), "{output}");
    assert_absent(&secret, &output, "a pull with --token");
    let (code, output) = run(&["--token", &wrong], "");
    assert_eq!(code, Some(2), "{output}");
    assert_absent(&wrong, &output, "a refused pull with --token");
    assert!(fake.served().iter().any(|s| s.status == 200));
}
