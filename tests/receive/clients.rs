//! Clients the abuse and TLS tests drive the receiver with: OTLP/gRPC (tonic's
//! generated client, over plain TCP or over TLS through a rustls connector), HTTPS
//! (reqwest with the test's certificate as the only root), raw TCP sockets that
//! misbehave on purpose, and a self-signed certificate (rcgen). Every call is
//! blocking with a generous timeout, so the tests stay plain loops.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Deadline of one client call: far above what a loaded 2-core machine needs.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files.
pub struct Cert {
    pub pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Cert {
    pub fn generate(dir: &Path) -> Cert {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(names).expect("generate a certificate");
        let pem = cert.pem();
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, &pem).unwrap();
        std::fs::write(&key_path, signing_key.serialize_pem()).unwrap();
        Cert {
            pem,
            cert: cert_path,
            key: key_path,
        }
    }

    fn tls_connector(&self, alpn: &[u8]) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.pem.as_bytes()) {
            roots.add(cert.expect("PEM")).expect("root");
        }
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        TlsConnector::from(Arc::new(config))
    }
}

/// One OTLP/gRPC export (with `authorization: Bearer <token>` if given), over TLS
/// trusting `tls` if given.
pub fn grpc_export(
    addr: &str,
    request: &[u8],
    token: Option<&str>,
    tls: Option<&Cert>,
) -> Result<ExportTraceServiceResponse, tonic::Status> {
    let request = ExportTraceServiceRequest::decode(request).expect("a test request");
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(CALL_TIMEOUT)
        .timeout(CALL_TIMEOUT);
    let connector = tls.map(|cert| cert.tls_connector(b"h2"));
    let addr = addr.to_string();
    runtime().block_on(async move {
        let channel = match connector {
            None => endpoint.connect().await,
            Some(tls) => {
                let connect = tower::service_fn(move |_: tonic::transport::Uri| {
                    let (tls, addr) = (tls.clone(), addr.clone());
                    async move {
                        let tcp = tokio::net::TcpStream::connect(&addr).await?;
                        let name = ServerName::try_from("localhost").expect("name");
                        let stream = tls.connect(name, tcp).await?;
                        Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                    }
                });
                endpoint.connect_with_connector(connect).await
            }
        }
        .map_err(|e| tonic::Status::unavailable(format!("connect: {e:?}")))?;
        let mut request = tonic::Request::new(request);
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().expect("header value");
            request.metadata_mut().insert("authorization", value);
        }
        TraceServiceClient::new(channel)
            .export(request)
            .await
            .map(|r| r.into_inner())
    })
}

/// What a server answered to a raw gRPC call.
#[derive(Debug)]
pub struct RawAnswer {
    pub http_status: u16,
    /// `grpc-status` of a trailers-only answer (None when trailers carry it).
    pub grpc_status: Option<String>,
    pub grpc_message: Option<String>,
}

/// A gRPC Export call on a fresh plain HTTP/2 connection (h2, no gRPC library) that
/// sends only the first `part` bytes of the framed `body` and keeps its stream open
/// until the server answers (at most [`CALL_TIMEOUT`]); `extra` headers added.
pub fn grpc_partial_call(
    addr: &str,
    body: &[u8],
    part: usize,
    extra: &[(&str, String)],
) -> Result<RawAnswer, String> {
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(body);
    let part = part.min(framed.len());
    runtime().block_on(async move {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let (client, connection) = h2::client::handshake(tcp)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut client = client.ready().await.map_err(|e| e.to_string())?;
        let mut request = hyper::Request::builder()
            .method("POST")
            .uri(format!(
                "http://{addr}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in extra {
            request = request.header(*k, v.as_str());
        }
        let request = request.body(()).expect("request");
        let (response, mut send) = client
            .send_request(request, false)
            .map_err(|e| format!("send_request: {e}"))?;
        let data = bytes::Bytes::copy_from_slice(&framed[..part]);
        send.send_data(data, part == framed.len())
            .map_err(|e| format!("send_data: {e}"))?;
        let response = tokio::time::timeout(CALL_TIMEOUT, response)
            .await
            .map_err(|_| format!("no answer within {CALL_TIMEOUT:?}"))?
            .map_err(|e| format!("response: {e}"))?;
        drop(send);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(RawAnswer {
            http_status: response.status().as_u16(),
            grpc_status: header("grpc-status"),
            grpc_message: header("grpc-message"),
        })
    })
}

/// One OTLP/HTTP protobuf export over HTTPS trusting `cert`: status and body.
pub fn https_export(addr: &str, cert: &Cert, body: &[u8]) -> reqwest::Result<(u16, Vec<u8>)> {
    let root = reqwest::Certificate::from_pem(cert.pem.as_bytes()).expect("certificate");
    let socket: std::net::SocketAddr = addr.parse().expect("address");
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root)
        .resolve("localhost", socket)
        .timeout(CALL_TIMEOUT)
        .build()?;
    let url = format!("https://localhost:{}/v1/traces", socket.port());
    let body = body.to_vec();
    runtime().block_on(async move {
        let response = client
            .post(url)
            .header("Content-Type", "application/x-protobuf")
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.bytes().await?.to_vec()))
    })
}

/// A TCP connection to `addr` with the test's read timeout.
pub fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(CALL_TIMEOUT)).unwrap();
    stream
}

/// What `stream` has for us, seen without blocking: `None` when nothing has come
/// yet (WouldBlock), else the peek's result (`Ok(0)` at EOF).
fn peek_now(stream: &TcpStream) -> Option<std::io::Result<usize>> {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let peeked = stream.peek(&mut byte);
    stream.set_nonblocking(false).unwrap();
    match peeked {
        Err(e) if e.kind() == ErrorKind::WouldBlock => None,
        other => Some(other),
    }
}

/// Whether the peer has closed `stream` (EOF or reset), without blocking: a
/// connection the server keeps has nothing to read yet (WouldBlock).
pub fn closed_by_peer(stream: &TcpStream) -> bool {
    matches!(peek_now(stream), Some(Ok(0) | Err(_)))
}

/// Whether the server has answered on `stream` or closed it, without blocking.
pub fn answered_or_closed(stream: &TcpStream) -> bool {
    peek_now(stream).is_some()
}

/// Reads until the server closes `stream` (at most [`CALL_TIMEOUT`]): what it sent
/// before closing. Panics if it keeps the connection open.
pub fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the server kept the connection open for {CALL_TIMEOUT:?}")
            }
            Err(_) => return got, // reset
        }
    }
}

/// Resident memory of process `pid` now (VmRSS), in kB.
pub fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// Raises this process's soft limit of open files to at least `want` (children
/// inherit it), failing the test if the hard limit does not allow it.
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every unix
pub fn raise_open_files(want: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only access the struct they are given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if (limit.rlim_cur as u64) < want {
            assert!(
                limit.rlim_max as u64 >= want,
                "the hard open-file limit {} is below the {want} this test needs",
                limit.rlim_max
            );
            limit.rlim_cur = want as libc::rlim_t;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
}
