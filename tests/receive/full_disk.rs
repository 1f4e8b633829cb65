//! `pipescope receive` on a full disk. The running receiver's file-size limit is
//! lowered to one byte (`prlimit --pid`), so that its log appends and its compaction's
//! Parquet writes fail as they do on a full disk (EFBIG where a disk says ENOSPC), and
//! later raised again: requests meanwhile get 503 with a retry hint, the compaction
//! keeps its segments and retries, and once there is room every acknowledged span is
//! stored, once, and none of the refused ones.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{on_path, require};
use crate::harness::{Receiver, post_proto, request, sql, trace_hex};

fn set_file_size_limit(prlimit: &Path, pid: u32, limit: &str) {
    let out = Command::new(prlimit)
        .args(["--pid", &pid.to_string(), &format!("--fsize={limit}")])
        .output()
        .expect("run prlimit");
    assert!(
        out.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_full_disk_refuses_requests_and_loses_nothing_once_there_is_room() {
    let Some(prlimit) = require("prlimit (util-linux)", on_path("prlimit")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    let mut receiver = Receiver::start(&data, &["--flush-interval", "500ms"]);
    let pid = receiver.child.id();
    let mut acknowledged = Vec::new();
    for trace in 0..3 {
        let r = post_proto(&receiver.http, &request(trace, 0, 20)).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        acknowledged.push(trace);
    }

    set_file_size_limit(&prlimit, pid, "1:unlimited");
    for trace in 10..14 {
        let r = post_proto(&receiver.http, &request(trace, 0, 20)).unwrap();
        assert_eq!(r.status, 503, "a request the log cannot hold: {}", r.text());
        assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    }
    // A segment closes (--flush-interval) and its compaction fails and is retried.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !receiver.stderr().contains("they stay in the log") {
        assert!(Instant::now() < deadline, "{}", receiver.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        receiver.child.try_wait().is_ok_and(|s| s.is_none()),
        "the receiver keeps running on a full disk"
    );

    set_file_size_limit(&prlimit, pid, "unlimited:unlimited");
    for trace in 20..23 {
        let r = post_proto(&receiver.http, &request(trace, 0, 20)).unwrap();
        assert_eq!(r.status, 200, "room again: {}", r.text());
        acknowledged.push(trace);
    }
    let stderr = receiver.stop();
    let stored: Vec<(String, i64)> = sql(
        &data,
        "SELECT trace_id, count(*) AS n FROM spans GROUP BY trace_id ORDER BY trace_id",
    )
    .iter()
    .map(|r| {
        (
            r["trace_id"].as_str().unwrap_or("").to_string(),
            r["n"].as_i64().unwrap_or(-1),
        )
    })
    .collect();
    let mut want: Vec<(String, i64)> = acknowledged.iter().map(|&t| (trace_hex(t), 20)).collect();
    want.sort();
    assert_eq!(stored, want, "{stderr}");
}
