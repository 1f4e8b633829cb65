//! Test harness for `pipescope receive`: start the real binary on loopback port 0,
//! read the addresses it reports, stop it with SIGTERM or SIGKILL, and a minimal
//! HTTP/1.1 client so the tests control every byte they send. Every wait polls its
//! condition up to a generous deadline: no test relies on how long something takes.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;

/// A running receiver.
pub struct Receiver {
    pub child: Child,
    pub http: String,
    pub grpc: String,
    pub stderr: Arc<Mutex<String>>,
    pub stdout: Arc<Mutex<String>>,
    /// The threads copying stdout and stderr: they end when the receiver exits.
    readers: Vec<JoinHandle<()>>,
}

pub fn binary() -> PathBuf {
    crate::common::bin()
}

/// Copies `pipe` line by line into a shared string, on a thread.
pub fn collect(pipe: impl Read + Send + 'static) -> (Arc<Mutex<String>>, JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut all = sink.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
        }
    });
    (text, reader)
}

impl Receiver {
    /// Starts `pipescope receive` on ports chosen by the OS, waiting (at most 60 s) until
    /// it reports both addresses. `--flush-interval 300ms` and `--status-interval 1s`
    /// unless `extra` sets them.
    pub fn start(data: &Path, extra: &[&str]) -> Receiver {
        Receiver::start_with_env(data, extra, &[])
    }

    /// [`Receiver::start`] with extra environment variables for the receiver.
    pub fn start_with_env(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Receiver {
        let mut args = vec!["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"];
        if !extra.contains(&"--status-interval") {
            args.extend(["--status-interval", "1s"]);
        }
        if !extra.contains(&"--flush-interval") {
            args.extend(["--flush-interval", "300ms"]);
        }
        args.extend(extra);
        Receiver::start_exact(data, &args, env)
    }

    /// `pipescope --data DATA receive ARGS` with exactly these arguments.
    pub fn start_exact(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Receiver {
        let mut child = Command::new(binary())
            .args(["--data"])
            .arg(data)
            .arg("receive")
            .args(args)
            .env_remove("PIPESCOPE_CONVENTIONS")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pipescope receive");
        let (stderr, stderr_reader) = collect(child.stderr.take().expect("stderr"));
        let (stdout, stdout_reader) = collect(child.stdout.take().expect("stdout"));
        let readers = vec![stderr_reader, stdout_reader];
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = stderr.lock().unwrap().clone();
            let find = |prefix: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .map(|s| s.trim().to_string())
            };
            if let (Some(http), Some(grpc)) =
                (find("listening: otlp-http "), find("listening: otlp-grpc "))
            {
                // `https://…` and `… (TLS)` with --tls-cert: the tests know which.
                let http = http.split_once("://").map_or(http.as_str(), |(_, a)| a);
                let http = http.trim_end_matches("/v1/traces").to_string();
                let grpc = grpc.split_whitespace().next().unwrap_or("").to_string();
                return Receiver {
                    child,
                    http,
                    grpc,
                    stderr,
                    stdout,
                    readers,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("receiver exited ({status}) before listening:\n{text}");
            }
            assert!(Instant::now() < deadline, "receiver did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then waits (at most 60 s) for a clean exit; returns stderr.
    pub fn stop(self) -> String {
        let (status, _, text) = self.stop_output();
        assert!(status.success(), "receiver failed ({status}):\n{text}");
        assert!(text.contains("stopped; receive:"), "{text}");
        text
    }

    /// SIGTERM, then waits (at most 60 s) for the receiver to exit, whatever its exit
    /// status; returns it with everything written to stdout and stderr.
    pub fn stop_output(mut self) -> (ExitStatus, String, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // The pipes close with the process: the readers then have every line.
                for reader in self.readers.drain(..) {
                    reader.join().expect("output reader");
                }
                let stdout = self.stdout.lock().unwrap().clone();
                return (status, stdout, self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("receiver did not stop on SIGTERM:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }

    /// Peak resident memory so far (VmHWM), in kB.
    pub fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

/// A test that fails before `stop` must not leave its receiver running: it would load
/// the machine for the tests after it and outlive the whole test run.
impl Drop for Receiver {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One POST on a fresh connection (`Connection: close`), 30 s timeout.
pub fn post(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    // The server may answer (413) before reading everything: ignore a reset here.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// POSTs an OTLP protobuf body.
pub fn post_proto(addr: &str, body: &[u8]) -> std::io::Result<Reply> {
    post(
        addr,
        "/v1/traces",
        &[("Content-Type", "application/x-protobuf")],
        body,
    )
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
    }
}

/// A request of `count` spans of one trace; span ids are `(trace, first + i)`.
pub fn request(trace: u64, first: u64, count: u64) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let spans = (first..first + count)
        .map(|i| Span {
            trace_id: trace_id(trace).to_vec(),
            span_id: (i + 1).to_be_bytes().to_vec(),
            name: format!("step {i}"),
            start_time_unix_nano: now,
            end_time_unix_nano: now + 1_000_000,
            attributes: vec![kv("command", "make"), kv("exit_code", "0")],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "load")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

pub fn trace_id(trace: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[8..].copy_from_slice(&(trace + 1).to_be_bytes());
    id
}

/// The hex trace id the store holds for `trace_id(trace)`.
pub fn trace_hex(trace: u64) -> String {
    trace_id(trace).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `pipescope sql` against a store and returns the JSON rows.
pub fn sql(data: &Path, query: &str) -> Vec<serde_json::Value> {
    rows(data, &["sql", query])
}

/// Runs an analysis with `--format json`; panics with stderr on failure.
pub fn rows(data: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(binary())
        .arg("--data")
        .arg(data)
        .args(args)
        .args(["--format", "json"])
        .env_remove("PIPESCOPE_CONVENTIONS")
        .output()
        .expect("run pipescope");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pipescope {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    doc["rows"].as_array().cloned().unwrap_or_default()
}

/// One integer from the first column of the first row.
pub fn count(data: &Path, query: &str) -> i64 {
    let rows = sql(data, query);
    rows.first()
        .and_then(|r| r.as_object())
        .and_then(|o| o.values().next())
        .and_then(|v| v.as_i64())
        .unwrap_or_else(|| panic!("no count from {query}: {rows:?}"))
}
