//! `receive --tls-cert --tls-key`: both protocols over TLS with a self-signed
//! certificate the test generates (rcgen) and the clients trust as their only root;
//! plain-text clients to the TLS ports fail cleanly and leave the server serving.

use std::io::Write;

use crate::clients::{Cert, connect, grpc_export, https_export, read_until_closed};
use crate::harness::{Receiver, count, post_proto, request, trace_hex};

#[test]
fn tls_serves_both_protocols_and_plain_text_clients_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let cert = Cert::generate(tmp.path());
    let (cert_path, key_path) = (
        cert.cert.display().to_string(),
        cert.key.display().to_string(),
    );
    let receiver = Receiver::start(&data, &["--tls-cert", &cert_path, "--tls-key", &key_path]);
    let stderr = receiver.stderr();
    assert!(
        stderr.contains("listening: otlp-http https://127.0.0.1:") && stderr.contains(" (TLS)"),
        "{stderr}"
    );
    let (http, grpc) = (receiver.http.clone(), receiver.grpc.clone());

    let (status, body) = https_export(&http, &cert, &request(1, 0, 4)).unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    grpc_export(&grpc, &request(2, 0, 3), None, Some(&cert)).unwrap();

    // Plain text to the TLS ports: no HTTP answer, the connection just ends.
    let plain = post_proto(&http, &request(3, 0, 1));
    assert!(!plain.as_ref().is_ok_and(|r| r.status == 200), "{plain:?}");
    let mut raw = connect(&http);
    raw.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let answer = read_until_closed(&mut raw);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // (Which transport error depends on how the client reads the TLS alert.)
    let status = grpc_export(&grpc, &request(3, 1, 1), None, None);
    assert!(status.is_err(), "{status:?}");
    // A client trusting another certificate gives up at the handshake.
    let other_dir = tmp.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = Cert::generate(&other_dir);
    assert!(https_export(&http, &other, &request(3, 2, 1)).is_err());
    assert!(grpc_export(&grpc, &request(3, 3, 1), None, Some(&other)).is_err());

    // Still serving over TLS after all of that.
    let (status, _) = https_export(&http, &cert, &request(1, 4, 2)).unwrap();
    assert_eq!(status, 200);
    grpc_export(&grpc, &request(2, 3, 2), None, Some(&cert)).unwrap();
    receiver.stop();
    let stored = |trace| {
        count(
            &data,
            &format!(
                "SELECT count(*) FROM spans WHERE trace_id = '{}'",
                trace_hex(trace)
            ),
        )
    };
    assert_eq!(stored(1), 6);
    assert_eq!(stored(2), 5);
    assert_eq!(stored(3), 0);
}

#[test]
fn a_bad_certificate_or_key_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let cert = Cert::generate(tmp.path());
    let garbage = tmp.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let other_dir = tmp.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = Cert::generate(&other_dir);
    let cases = [
        (
            tmp.path().join("missing.pem"),
            cert.key.clone(),
            "--tls-cert",
            "missing.pem",
        ),
        (
            cert.cert.clone(),
            tmp.path().join("nokey.pem"),
            "--tls-key",
            "nokey.pem",
        ),
        (
            cert.cert.clone(),
            garbage.clone(),
            "--tls-key",
            "garbage.pem",
        ),
        (cert.key.clone(), cert.key.clone(), "--tls-cert", "key.pem"),
        (
            cert.cert.clone(),
            other.key.clone(),
            "does not fit",
            "cert.pem",
        ),
    ];
    for (cert_file, key_file, what, file) in cases {
        let out = std::process::Command::new(crate::harness::binary())
            .arg("--data")
            .arg(&data)
            .args(["receive", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(&cert_file)
            .arg("--tls-key")
            .arg(&key_file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(what) && stderr.contains(file),
            "{what} {file}: {stderr}"
        );
        assert!(!stderr.contains("listening"), "{stderr}");
    }
}
