//! A fast OTLP/JSON-lines writer for benchmarks: pipeline-shaped traces (root, tasks,
//! tests with children) formatted straight into a byte buffer, no `serde_json::Value`
//! in between, so that millions of spans take seconds to produce.

use std::io::Write;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SPANS_PER_TRACE: usize = 50;
const TASKS: [&str; 4] = ["checkout", "build", "test", "lint"];
const BRANCHES: [&str; 4] = ["main", "feature/a", "feature/b", "release/1.0"];
const S_NS: u64 = 1_000_000_000;

fn hex_into(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
}

#[allow(clippy::too_many_arguments)]
fn span(
    out: &mut Vec<u8>,
    first: &mut bool,
    trace: &[u8; 16],
    id: &[u8; 8],
    parent: Option<&[u8; 8]>,
    name: &str,
    start: u64,
    end: u64,
    error: bool,
    attrs: &[(&str, &str)],
) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    out.extend_from_slice(b"{\"traceId\":\"");
    hex_into(out, trace);
    out.extend_from_slice(b"\",\"spanId\":\"");
    hex_into(out, id);
    out.extend_from_slice(b"\",\"parentSpanId\":\"");
    if let Some(p) = parent {
        hex_into(out, p);
    }
    // Names and values here are generator constants without characters JSON must escape.
    let _ = write!(
        out,
        "\",\"name\":\"{name}\",\"kind\":1,\"startTimeUnixNano\":\"{start}\",\"endTimeUnixNano\":\"{end}\",\"attributes\":["
    );
    for (i, (k, v)) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = write!(
            out,
            "{{\"key\":\"{k}\",\"value\":{{\"stringValue\":\"{v}\"}}}}"
        );
    }
    let code = if error { 2 } else { 1 };
    let _ = write!(out, "],\"status\":{{\"code\":{code}}}}}");
}

/// OTLP/JSON lines with exactly `spans` spans (one trace per line, 50 spans a trace).
pub fn otlp_json_lines(seed: u64, spans: usize) -> Vec<u8> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(spans * 420);
    let mut left = spans;
    let mut t: u64 = 1_748_736_000 * S_NS;
    let mut run: u64 = 1;
    while left > 0 {
        let n = left.min(SPANS_PER_TRACE);
        left -= n;
        let trace: [u8; 16] = rng.random();
        let branch = BRANCHES[rng.random_range(0..BRANCHES.len())];
        let mut sha = Vec::with_capacity(40);
        hex_into(&mut sha, &rng.random::<[u8; 20]>());
        let sha = String::from_utf8_lossy(&sha).into_owned();
        let _ = write!(
            out,
            "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{{\"key\":\"service.name\",\"value\":{{\"stringValue\":\"github-actions\"}}}},{{\"key\":\"vcs.ref.head.name\",\"value\":{{\"stringValue\":\"{branch}\"}}}},{{\"key\":\"vcs.ref.head.revision\",\"value\":{{\"stringValue\":\"{sha}\"}}}}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"bench\"}},\"spans\":["
        );
        let mut first = true;
        let root: [u8; 8] = rng.random();
        let end = t + 600 * S_NS;
        let run_s = run.to_string();
        span(
            &mut out,
            &mut first,
            &trace,
            &root,
            None,
            "build-and-test",
            t,
            end,
            false,
            &[
                ("cicd.pipeline.name", "build-and-test"),
                ("cicd.pipeline.run.id", &run_s),
                ("cicd.pipeline.result", "success"),
            ],
        );
        let mut emitted = 1;
        let mut test_task = root;
        let mut cursor = t;
        for task in TASKS {
            if emitted == n {
                break;
            }
            let id: [u8; 8] = rng.random();
            let d = rng.random_range(10..300) * S_NS;
            span(
                &mut out,
                &mut first,
                &trace,
                &id,
                Some(&root),
                task,
                cursor,
                cursor + d,
                false,
                &[
                    ("cicd.pipeline.task.name", task),
                    ("cicd.pipeline.task.run.result", "success"),
                ],
            );
            if task == "test" {
                test_task = id;
            }
            cursor += d;
            emitted += 1;
        }
        let mut ts = t + 60 * S_NS;
        let mut k = 0;
        while emitted < n {
            let id: [u8; 8] = rng.random();
            let fail = rng.random_bool(0.03);
            let name = format!("test_case_{:03}", (k * 7 + run as usize) % 200);
            let d = rng.random_range(1_000_000..900_000_000u64);
            span(
                &mut out,
                &mut first,
                &trace,
                &id,
                Some(&test_task),
                &name,
                ts,
                ts + d,
                fail,
                &[
                    ("test.case.name", &name),
                    (
                        "test.case.result.status",
                        if fail { "fail" } else { "pass" },
                    ),
                ],
            );
            emitted += 1;
            let mut cs = ts;
            for child in ["SELECT items", "GET /api"] {
                if emitted == n {
                    break;
                }
                let cid: [u8; 8] = rng.random();
                let cd = d / 3;
                span(
                    &mut out,
                    &mut first,
                    &trace,
                    &cid,
                    Some(&id),
                    child,
                    cs,
                    cs + cd,
                    false,
                    &[("server.address", "db.internal")],
                );
                cs += cd;
                emitted += 1;
            }
            ts += d;
            k += 1;
        }
        out.extend_from_slice(b"]}]}]}\n");
        t += 1800 * S_NS;
        run += 1;
    }
    out
}
