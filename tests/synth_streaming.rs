//! `pipescope synth --preset bench` writes as it generates: its peak memory does not
//! grow with the number of spans. Its own test file (one test, one process) because
//! it reads the peak RSS of this process's children, which a test running another
//! child in parallel would spoil.

mod common;

use std::process::Command;

/// The largest peak RSS of the children this process has waited for, in KiB.
fn children_peak_rss_kib() -> i64 {
    // SAFETY: `getrusage` only writes into the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
    // Linux reports ru_maxrss in KiB.
    usage.ru_maxrss
}

/// Runs the bench preset with `spans` spans and returns the children's peak RSS after it.
fn synth_bench(spans: usize) -> i64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(common::bin())
        .args(["synth", "--preset", "bench", "--spans", &spans.to_string()])
        .arg("--out")
        .arg(dir.path().join("bench"))
        .output()
        .expect("run pipescope synth");
    assert!(
        out.status.success(),
        "synth --spans {spans}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    children_peak_rss_kib()
}

#[test]
fn bench_preset_memory_does_not_grow_with_spans() {
    // Small first: the children's peak can only rise, so the second reading is the
    // larger run's own peak unless that one stayed below the first.
    let small = synth_bench(20_000);
    let large = synth_bench(200_000);
    // 10x the spans. When everything was built before writing, that took ~288 MiB
    // against ~73 MiB; streamed, ~47 MiB against ~53 MiB. The slack absorbs allocator
    // noise at the small end.
    let slack_kib = 16 * 1024;
    assert!(
        large as f64 <= small as f64 * 1.3 + slack_kib as f64,
        "peak RSS grew with the spans: {small} KiB at 20k spans, {large} KiB at 200k"
    );
}
