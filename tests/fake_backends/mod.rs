//! In-process fake Jaeger (api_v3 and v1), Tempo and Zipkin query servers on
//! 127.0.0.1:0, reproducing the real response shapes and their traps: searches that
//! return only the first `limit` results and never say so, Tempo's stripped ids,
//! base64 ids and enum names, api_v3's 404 for "no traces", required credentials —
//! plus injected faults (503, 429 with Retry-After, slow answers, cut-off bodies,
//! HTML pages).
//!
//! A plain thread-per-connection HTTP/1.1 server (std only): it must be able to
//! misbehave at the byte level (cut a body short), which a framework makes awkward.
#![allow(dead_code)]

pub mod encode;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pipescope::model::Span;
use serde_json::{Value, json};

use encode::OtlpStyle;

/// Which API the fake speaks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    JaegerV3,
    JaegerV1,
    /// `v2`: whether `/api/v2/traces/{id}` exists (else only `/api/traces/{id}`).
    Tempo {
        v2: bool,
    },
    Zipkin,
}

/// A fault served instead of (or in place of part of) the right answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fault {
    Unavailable,
    TooMany { retry_after_s: u64 },
    Slow(Duration),
    CutOff,
    Html200,
    Html502,
    Forbidden,
}

/// Mutable behaviour, changed by tests between runs.
pub struct Behaviour {
    pub traces: Vec<Vec<Span>>,
    /// Expected `Authorization` header value, if credentials are required.
    pub auth: Option<String>,
    /// Expected `X-Scope-OrgID` (Tempo).
    pub org_id: Option<String>,
    /// Faults of the first attempts of every request whose URL hashes into them:
    /// `(modulus, faults)` — a URL with `hash % modulus == 0` gets `faults[attempt]`
    /// on its first attempts, then the right answer.
    pub transient: Option<(u64, Vec<Fault>)>,
    /// URLs containing this string always get this fault.
    pub permanent: Option<(String, Fault)>,
    /// After this many requests every request gets 403 (a fatal error mid-pull).
    pub fatal_after: Option<usize>,
}

/// One served request, for assertions.
#[derive(Clone, Debug)]
pub struct Served {
    pub target: String,
    pub at: Instant,
    pub status: u16,
}

pub struct Fake {
    pub kind: Kind,
    pub url: String,
    pub state: Arc<Mutex<Behaviour>>,
    pub log: Arc<Mutex<Vec<Served>>>,
    attempts: Arc<Mutex<HashMap<String, usize>>>,
}

/// Requests one fake serves at most (every loop is bounded).
const MAX_REQUESTS: usize = 200_000;

impl Fake {
    pub fn start(kind: Kind, traces: Vec<Vec<Span>>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let mut traces = traces;
        traces.sort_by_key(|t| t.iter().map(|s| s.start_ns).min().unwrap_or(0));
        let fake = Fake {
            kind,
            url,
            state: Arc::new(Mutex::new(Behaviour {
                traces,
                auth: None,
                org_id: None,
                transient: None,
                permanent: None,
                fatal_after: None,
            })),
            log: Arc::new(Mutex::new(Vec::new())),
            attempts: Arc::new(Mutex::new(HashMap::new())),
        };
        let (state, log, attempts) = (fake.state.clone(), fake.log.clone(), fake.attempts.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(MAX_REQUESTS) {
                let Ok(stream) = stream else { continue };
                let (state, log, attempts) = (state.clone(), log.clone(), attempts.clone());
                std::thread::spawn(move || {
                    let _ = serve(kind, stream, &state, &log, &attempts);
                });
            }
        });
        fake
    }

    pub fn with(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.state.lock().unwrap());
    }

    pub fn served(&self) -> Vec<Served> {
        self.log.lock().unwrap().clone()
    }

    /// Searches served (not service lists, not fetches by id), counted by the service
    /// they asked for ("" when none).
    pub fn searches_by_service(&self) -> BTreeMap<String, usize> {
        let (path, names): (&str, &[&str]) = match self.kind {
            Kind::JaegerV3 => (
                "/api/v3/traces",
                &["query.service_name", "query.serviceName"],
            ),
            Kind::JaegerV1 => ("/api/traces", &["service"]),
            Kind::Tempo { .. } => ("/api/search", &[]),
            Kind::Zipkin => ("/api/v2/traces", &["serviceName"]),
        };
        let mut counts = BTreeMap::new();
        for served in self.served() {
            let (p, q) = served
                .target
                .split_once('?')
                .unwrap_or((&served.target, ""));
            if p != path {
                continue;
            }
            let url = reqwest::Url::parse(&format!("http://x/?{q}")).expect("query");
            let service = url
                .query_pairs()
                .find(|(k, _)| names.contains(&k.as_ref()))
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            *counts.entry(service).or_insert(0) += 1;
        }
        counts
    }

    /// Fetches by id served, counted by trace id (Tempo).
    pub fn fetches_by_trace(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for served in self.served() {
            let path = served.target.split('?').next().unwrap_or("");
            if (path.starts_with("/api/v2/traces/") || path.starts_with("/api/traces/"))
                && served.status == 200
            {
                let id = path.rsplit('/').next().unwrap_or("").to_string();
                *counts.entry(id).or_insert(0) += 1;
            }
        }
        counts
    }
}

struct Request {
    path: String,
    query: Vec<(String, String)>,
    target: String,
    headers: HashMap<String, String>,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_string();
    let mut headers = HashMap::new();
    for _ in 0..100 {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = reqwest::Url::parse(&format!("http://x/?{q}"))
        .ok()?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Some(Request {
        path: path.to_string(),
        query,
        target: target.clone(),
        headers,
    })
}

fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8], extra: &str) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

const HTML: &[u8] = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";

fn serve(
    kind: Kind,
    mut stream: TcpStream,
    state: &Mutex<Behaviour>,
    log: &Mutex<Vec<Served>>,
    attempts: &Mutex<HashMap<String, usize>>,
) -> Option<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = read_request(&stream)?;
    let attempt = {
        let mut a = attempts.lock().ok()?;
        let n = a.entry(request.target.clone()).or_insert(0);
        *n += 1;
        *n - 1
    };
    let (fault, answer) = {
        let b = state.lock().ok()?;
        let total = log.lock().ok()?.len();
        let fault = if b.fatal_after.is_some_and(|n| total >= n) {
            Some(Fault::Forbidden)
        } else if let Some((needle, f)) = b
            .permanent
            .as_ref()
            .filter(|(n, _)| request.target.contains(n.as_str()))
        {
            let _ = needle;
            Some(*f)
        } else if let Some((m, faults)) = &b.transient {
            let h = fnv(request.target.as_bytes());
            h.is_multiple_of(*m)
                .then(|| faults.get(attempt).copied())
                .flatten()
        } else {
            None
        };
        let authorized = b
            .auth
            .as_ref()
            .is_none_or(|a| request.headers.get("authorization") == Some(a))
            && b.org_id
                .as_ref()
                .is_none_or(|o| request.headers.get("x-scope-orgid") == Some(o));
        let answer = if authorized {
            answer(kind, &b, &request)
        } else {
            (401, "text/plain", b"unauthorized".to_vec())
        };
        (fault, answer)
    };
    let status = match fault {
        Some(Fault::Unavailable) => {
            respond(&mut stream, 503, "text/plain", b"overloaded", "");
            503
        }
        Some(Fault::TooMany { retry_after_s }) => {
            respond(
                &mut stream,
                429,
                "text/plain",
                b"slow down",
                &format!("Retry-After: {retry_after_s}\r\n"),
            );
            429
        }
        Some(Fault::Forbidden) => {
            respond(&mut stream, 403, "text/plain", b"forbidden", "");
            403
        }
        Some(Fault::Html502) => {
            respond(&mut stream, 502, "text/html", HTML, "");
            502
        }
        Some(Fault::Html200) => {
            respond(&mut stream, 200, "text/html", HTML, "");
            200
        }
        Some(Fault::Slow(d)) => {
            std::thread::sleep(d);
            respond(&mut stream, answer.0, answer.1, &answer.2, "");
            answer.0
        }
        Some(Fault::CutOff) => {
            // Announce the whole body, send half, hang up.
            let body = &answer.2;
            let head = format!(
                "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                answer.0,
                answer.1,
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..body.len() / 2]);
            answer.0
        }
        None => {
            respond(&mut stream, answer.0, answer.1, &answer.2, "");
            answer.0
        }
    };
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut sink = [0u8; 64];
    let _ = stream.read(&mut sink);
    log.lock().ok()?.push(Served {
        target: request.target,
        at: Instant::now(),
        status,
    });
    Some(())
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn param<'a>(r: &'a Request, names: &[&str]) -> Option<&'a str> {
    r.query
        .iter()
        .find(|(k, _)| names.contains(&k.as_str()))
        .map(|(_, v)| v.as_str())
}

fn num(r: &Request, names: &[&str]) -> i64 {
    param(r, names).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn rfc3339(r: &Request, names: &[&str]) -> i64 {
    param(r, names)
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
        .and_then(|t| t.timestamp_nanos_opt())
        .unwrap_or(0)
}

fn start_of(t: &[Span]) -> i64 {
    t.iter().map(|s| s.start_ns).min().unwrap_or(0)
}

/// The first `limit` traces (in start order) starting in `[lo, hi]` with a span of
/// `service` (if given) — truncated silently, as the real servers do.
fn matching<'a>(
    b: &'a Behaviour,
    lo: i64,
    hi: i64,
    service: Option<&str>,
    limit: i64,
) -> Vec<&'a [Span]> {
    b.traces
        .iter()
        .filter(|t| (lo..=hi).contains(&start_of(t)))
        .filter(|t| service.is_none_or(|s| t.iter().any(|x| x.service.as_deref() == Some(s))))
        .take(limit.max(0) as usize)
        .map(|t| t.as_slice())
        .collect()
}

fn services(b: &Behaviour) -> Vec<String> {
    let mut s: Vec<String> = b
        .traces
        .iter()
        .flatten()
        .filter_map(|x| x.service.clone())
        .collect();
    s.sort();
    s.dedup();
    s
}

fn json_body(v: Value) -> (u16, &'static str, Vec<u8>) {
    (
        200,
        "application/json",
        serde_json::to_vec(&v).unwrap_or_default(),
    )
}

fn not_found() -> (u16, &'static str, Vec<u8>) {
    (404, "text/plain", b"404 page not found".to_vec())
}

fn answer(kind: Kind, b: &Behaviour, r: &Request) -> (u16, &'static str, Vec<u8>) {
    const US: i64 = 1000;
    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    let plain = OtlpStyle {
        base64_ids: false,
        enum_names: false,
    };
    match (kind, r.path.as_str()) {
        (Kind::JaegerV3, "/api/v3/services") => json_body(json!({"services": services(b)})),
        (Kind::JaegerV3, "/api/v3/traces") => {
            let lo = rfc3339(r, &["query.start_time_min"]);
            let hi = rfc3339(r, &["query.start_time_max"]);
            let found = matching(
                b,
                lo,
                hi,
                param(r, &["query.service_name"]),
                num(r, &["query.search_depth"]),
            );
            if found.is_empty() {
                // api_v3 answers "no traces" with 404 and a gRPC-style error body.
                return (
                    404,
                    "application/json",
                    br#"{"error":{"httpCode":404,"message":"trace not found"}}"#.to_vec(),
                );
            }
            let spans: Vec<&Span> = found.iter().flat_map(|t| t.iter()).collect();
            json_body(
                json!({"result": {"resourceSpans": encode::otlp_resource_spans(&spans, plain)}}),
            )
        }
        (Kind::JaegerV1, "/api/services") => json_body(json!({"data": services(b), "total": 0})),
        (Kind::JaegerV1, "/api/traces") => {
            let lo = num(r, &["start"]) * US;
            let hi = num(r, &["end"]) * US + (US - 1);
            let found = matching(b, lo, hi, param(r, &["service"]), num(r, &["limit"]));
            json_body(encode::jaeger_v1(&found))
        }
        (Kind::Tempo { .. }, "/api/search") => {
            let lo = num(r, &["start"]) * S;
            let hi = num(r, &["end"]) * S;
            let found = matching(b, lo, hi, None, num(r, &["limit"]));
            let traces: Vec<Value> = found
                .iter()
                .map(|t| {
                    // Tempo strips leading zeros from trace ids in search results.
                    let id = t[0].trace_id.trim_start_matches('0');
                    json!({"traceID": id, "rootServiceName": t[0].service, "startTimeUnixNano": start_of(t).to_string(), "durationMs": 1})
                })
                .collect();
            json_body(json!({"traces": traces, "metrics": {"inspectedTraces": b.traces.len()}}))
        }
        (Kind::Tempo { v2 }, path)
            if path.starts_with("/api/v2/traces/") || path.starts_with("/api/traces/") =>
        {
            let is_v2 = path.starts_with("/api/v2/");
            if is_v2 && !v2 {
                return not_found();
            }
            let id = path.rsplit('/').next().unwrap_or("");
            let Some(trace) = b.traces.iter().find(|t| t[0].trace_id == id) else {
                return not_found();
            };
            let spans: Vec<&Span> = trace.iter().collect();
            let tempo = OtlpStyle {
                base64_ids: true,
                enum_names: true,
            };
            let rs = encode::otlp_resource_spans(&spans, tempo);
            if is_v2 {
                json_body(json!({"trace": {"resourceSpans": rs}, "status": "COMPLETE"}))
            } else {
                json_body(json!({"batches": rs}))
            }
        }
        (Kind::Zipkin, "/api/v2/services") => json_body(json!(services(b))),
        (Kind::Zipkin, "/api/v2/traces") => {
            let hi = num(r, &["endTs"]) * MS + (MS - 1);
            let lo = (num(r, &["endTs"]) - num(r, &["lookback"])) * MS;
            let found = matching(b, lo, hi, param(r, &["serviceName"]), num(r, &["limit"]));
            json_body(encode::zipkin(&found))
        }
        _ => not_found(),
    }
}

/// `count` CI traces over the 30 days from `start_ns`, spread over `services` services
/// the way a real month is uneven: the first service runs half of them, the rest
/// share what is left; nightly runs bunch at 02:00, pushes fall in office hours on
/// weekdays; one trace in ten crosses into the next service (a deploy job); 2–7 spans
/// each; some trace ids have leading zeros (Tempo strips them). Deterministic.
pub fn month_of_traces(start_ns: i64, count: usize, services: usize) -> Vec<Vec<Span>> {
    const S: i64 = 1_000_000_000;
    const DAY: i64 = 86_400 * S;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let services = services.max(1);
    let name = |k: usize| format!("ci-{k:02}");
    (0..count)
        .map(|i| {
            let r = next();
            let service = if r % 2 == 0 || services == 1 {
                0
            } else {
                1 + (r as usize / 2) % (services - 1)
            };
            let day = (next() % 30) as i64;
            let start = if next() % 4 == 0 {
                // Nightly: 02:00 plus a few minutes.
                start_ns + day * DAY + 2 * 3600 * S + (next() % 600) as i64 * S
            } else {
                // A push: 08:00–18:00 on a weekday (2025-06-01 is a Sunday).
                let day = if day % 7 == 0 || day % 7 == 6 {
                    day + 1
                } else {
                    day
                };
                start_ns + day.min(29) * DAY + 8 * 3600 * S + (next() % 36_000) as i64 * S
            };
            let trace_id = if i % 5 == 0 {
                format!("{:032x}", next() >> 20)
            } else {
                format!("{:016x}{:016x}", next(), next())
            };
            let spans = 2 + (next() % 6) as usize;
            let root = format!("{:016x}", next() | 1);
            (0..spans)
                .map(|j| {
                    let crosses = i % 10 == 3 && j == spans - 1;
                    let svc = if crosses {
                        (service + 1) % services
                    } else {
                        service
                    };
                    let offset = j as i64 * 7 * S;
                    Span {
                        trace_id: trace_id.clone(),
                        span_id: if j == 0 {
                            root.clone()
                        } else {
                            format!("{:016x}", next() | 1)
                        },
                        parent_span_id: (j > 0).then(|| root.clone()),
                        name: if j == 0 {
                            "pipeline".to_string()
                        } else {
                            format!("job {j}")
                        },
                        kind: "internal".into(),
                        service: Some(name(svc)),
                        start_ns: start + offset,
                        end_ns: start + offset + (1 + (next() % 900) as i64) * S,
                        ..Span::default()
                    }
                })
                .collect()
        })
        .collect()
}

/// The trace files under `dir` as whole traces, each span once: what a fake backend
/// serves.
pub fn traces_in(dir: &std::path::Path) -> Vec<Vec<Span>> {
    use pipescope::source::{self, VecSink};
    let paths = vec![dir.display().to_string()];
    let mut sink = VecSink::default();
    for input in source::expand_inputs(&paths).expect("inputs") {
        let mut opened = input.open().expect("open");
        let prefix = opened.reader.fill_buf().expect("read");
        let format = source::detect(prefix).expect("format");
        source::decode(format, &mut opened.reader, &opened.name, &mut sink).expect("decode");
    }
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    let mut seen = std::collections::HashSet::new();
    let mut traces: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for span in sink.spans {
        if seen.insert((span.trace_id.clone(), span.span_id.clone())) {
            traces.entry(span.trace_id.clone()).or_default().push(span);
        }
    }
    traces.into_values().collect()
}
