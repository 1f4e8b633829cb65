//! What a pipeline builder is told about the run it builds ([`RunCtx`]) and what it
//! hands back ([`RunOut`]), and the finished run the Truth is tallied from ([`Run`]).

use super::suites::Exec;
use super::trace::SynthTrace;

/// Everything one pipeline builder needs to know about the run it builds.
pub(crate) struct RunCtx<'a> {
    pub branch: &'a str,
    pub commit: &'a str,
    pub attempt: u32,
    pub run_id: i64,
    pub start_us: i64,
    /// Root of the previous attempt (the re-run's root links to it).
    pub prev_root: Option<([u8; 16], [u8; 8])>,
    /// Probability that a non-test task fails in this run.
    pub task_fail: f64,
    pub forced_pass: &'a [&'static str],
    pub broken: &'a [&'static str],
}

/// One built run attempt.
pub(crate) struct RunOut {
    pub root_span: [u8; 8],
    pub trace: SynthTrace,
    pub pipeline: &'static str,
    pub failed: bool,
    pub execs: Vec<Exec>,
}

/// A generated trace with the facts the Truth is computed from.
pub(crate) struct Run {
    pub trace: SynthTrace,
    pub branch: String,
    pub pipeline: &'static str,
    pub failed: bool,
    pub attempt: u32,
}
