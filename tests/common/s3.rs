//! An S3-compatible server for the tests of the bucket store: moto's, installed by
//! tests/s3/setup.sh from PyPI and started on a free loopback port; and pipescope
//! pointed at it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Env, bin};

/// A moto server on a free loopback port, killed when dropped.
pub struct S3Server {
    child: Child,
    pub port: u16,
    /// The server's virtual environment's python (with boto3): moto refuses unsigned
    /// writes to an object that exists, so objects are written through it.
    python: PathBuf,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's `moto_server`, installed on first use; see `common::require`.
fn moto_server() -> Option<PathBuf> {
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/setup.sh");
    let found = match Command::new("bash").arg(&setup).output() {
        Ok(out) if out.status.success() => {
            Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        }
        Ok(out) => Err(format!(
            "{} failed: {}",
            setup.display(),
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Err(format!("cannot run {}: {e}", setup.display())),
    };
    super::require("an S3-compatible server (moto, from PyPI)", found)
}

impl S3Server {
    pub fn start() -> Option<S3Server> {
        let moto = moto_server()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let python = moto.with_file_name("python");
        let server = S3Server {
            child,
            port,
            python,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server.boto("s3.create_bucket(Bucket='pipescope-test')", b"");
        Some(server)
    }

    /// Runs `statement` with `s3` a boto3 client of the server and `body` on stdin.
    pub fn boto(&self, statement: &str, body: &[u8]) {
        let script = format!(
            "import sys, boto3\ns3 = boto3.client('s3', endpoint_url='http://127.0.0.1:{}', aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1')\nbody = sys.stdin.buffer.read()\n{statement}\n",
            self.port
        );
        let mut child = Command::new(&self.python)
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run boto3");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(body)
            .expect("body");
        let out = child.wait_with_output().expect("boto3");
        assert!(
            out.status.success(),
            "{statement}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes one object of the test bucket.
    pub fn put(&self, key: &str, body: &[u8]) {
        self.boto(
            &format!("s3.put_object(Bucket='pipescope-test', Key='{key}', Body=body)"),
            body,
        );
    }

    /// One plain HTTP/1.1 request (moto takes unsigned ones); (status, body).
    pub fn http(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("send");
        stream.write_all(body).expect("send body");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("answer");
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status, body.to_string())
    }

    /// The keys under `prefix` in the test bucket.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let (status, body) = self.http(
            "GET",
            &format!("/pipescope-test?list-type=2&max-keys=1000&prefix={prefix}"),
            b"",
        );
        assert_eq!(status, 200, "listing: {body}");
        body.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_string()))
            .collect()
    }

    /// pipescope on `s3://pipescope-test/<prefix>` with its working copy in `cache`.
    pub fn pipescope(&self, prefix: &str, cache: &Path) -> Command {
        let mut cmd = Command::new(bin());
        cmd.env_remove("PIPESCOPE_DATA")
            .env_remove("PIPESCOPE_CONVENTIONS")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            )
            .arg("--data")
            .arg(format!("s3://pipescope-test/{prefix}"))
            .arg("--cache")
            .arg(cache);
        cmd
    }
}

/// Runs a command; panics with its stderr unless it exits 0; returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run pipescope");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rows of a `--format json` answer.
pub fn rows(stdout: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    doc["rows"].as_array().cloned().unwrap_or_default()
}

/// pipescope on a local store (a std `Command`, as the bucket's are).
pub fn local_cmd(env: &Env) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env("PIPESCOPE_DATA", env.data())
        .env_remove("PIPESCOPE_CONVENTIONS");
    cmd
}

/// The rows of each of `analyses`, run by `cmd` with `--format json`.
pub fn answers(analyses: &[&[&str]], mut cmd: impl FnMut() -> Command) -> Vec<Vec<Value>> {
    analyses
        .iter()
        .map(|args| rows(&ok(cmd().args(*args).args(["--format", "json"]))))
        .collect()
}
