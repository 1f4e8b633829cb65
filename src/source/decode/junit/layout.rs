//! The bookkeeping of the span builder: open containers, where their next child
//! starts and what their children covered, and what each test has seen so far.

use super::ids::Digest;

/// An open `<testsuites>` or `<testsuite>`.
pub struct Container {
    /// Suites become spans; groups (`<testsuites>`) only date and name what they hold.
    pub span_id: Option<String>,
    pub name: Option<String>,
    pub file: Option<String>,
    pub hostname: Option<String>,
    /// Identity of the suite path (groups pass their parent's on).
    pub path: Digest,
    pub serial: u64,
    /// Own `timestamp`, else where the parent's next child starts.
    pub start: i64,
    /// Whether `start` is the container's own `timestamp` rather than a guess.
    pub dated: bool,
    pub extent: Extent,
    /// Declared `time`.
    pub declared: i64,
    pub failing: i64,
    pub executions: u64,
    pub skipped: u64,
}

/// Where the next child starts and what the children covered.
#[derive(Debug, Clone, Copy)]
pub struct Extent {
    pub cursor: i64,
    pub first: Option<i64>,
    pub last: i64,
}

impl Extent {
    /// Nothing covered yet; the next child starts at `t`. `last` starts below any
    /// time, so that a guessed start (the fallback time, often a file's mtime) does not
    /// stretch a container whose children carry their own, earlier timestamps.
    pub fn at(t: i64) -> Extent {
        Extent {
            cursor: t,
            first: None,
            last: i64::MIN,
        }
    }

    pub fn cover(&mut self, start: i64, end: i64) {
        self.first = Some(self.first.map_or(start, |f| f.min(start)));
        self.last = self.last.max(end);
        self.cursor = self.cursor.max(end);
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub attempts: u32,
    pub failing: bool,
    /// Serial of the container that counted the failure.
    pub container: u64,
}

impl Container {
    /// The span's window once closed: a container covers what it holds; without a
    /// timestamp of its own, its start is its first child's (what it was given is only
    /// a guess).
    pub fn window(&self) -> (i64, i64) {
        let start = match self.extent.first {
            Some(first) if self.dated => first.min(self.start),
            Some(first) => first,
            None => self.start,
        };
        (
            start,
            start.saturating_add(self.declared).max(self.extent.last),
        )
    }

    /// The suite's `test.suite.run.status`: `fail` when a test's latest execution in it
    /// failed, `skipped` when everything was skipped, else `pass`.
    pub fn result(&self) -> &'static str {
        if self.failing > 0 {
            "fail"
        } else if self.executions > 0 && self.skipped == self.executions {
            "skipped"
        } else {
            "pass"
        }
    }
}
