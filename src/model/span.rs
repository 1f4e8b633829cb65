//! The one span model every source decodes into and every later stage reads.
//!
//! Decoders fill the raw facts (ids, names, times, status, attributes); the CI
//! normaliser (`model::normalize`) fills the CI columns. The store turns spans into
//! Arrow rows with exactly these fields (`store::schema`).

/// Where a span was read from; stored in the `source` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Otlp,
    Jaeger,
    Zipkin,
    Tempo,
    OtlpHttp,
    /// A JUnit XML test report.
    Junit,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Otlp => "otlp",
            SourceKind::Jaeger => "jaeger",
            SourceKind::Zipkin => "zipkin",
            SourceKind::Tempo => "tempo",
            SourceKind::OtlpHttp => "otlp-http",
            SourceKind::Junit => "junit",
        }
    }
}

/// Span status as stored: `ok`, `error` or `unset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status {
    #[default]
    Unset,
    Ok,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unset => "unset",
            Status::Ok => "ok",
            Status::Error => "error",
        }
    }
}

/// A link to another span (OTLP links, Jaeger FOLLOWS_FROM references). The
/// Collector's GitHub receiver links a re-run's root span to the previous attempt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    pub trace_id: String,
    pub span_id: String,
}

/// A span's CI role, stored in the `role` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Pipeline,
    Stage,
    Task,
    Step,
    Suite,
    Test,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pipeline => "pipeline",
            Role::Stage => "stage",
            Role::Task => "task",
            Role::Step => "step",
            Role::Suite => "suite",
            Role::Test => "test",
        }
    }
}

/// Normalised result of a pipeline, task, step or test, stored in `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
    Error,
    Cancel,
    /// Kept apart from `Cancel`: a timed-out job is a different problem.
    Timeout,
}

impl Outcome {
    /// Fail, error or timeout: what counts as a failed run, task or step.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Error | Outcome::Timeout)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Skip => "skip",
            Outcome::Error => "error",
            Outcome::Cancel => "cancel",
            Outcome::Timeout => "timeout",
        }
    }
}

/// CI columns filled by the normaliser; all optional because most spans are plain
/// spans (an HTTP call inside a test) with no CI meaning of their own.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CiFields {
    pub role: Option<Role>,
    pub pipeline: Option<String>,
    pub run_id: Option<String>,
    /// 1-based attempt number of the pipeline run.
    pub attempt: Option<i32>,
    pub task: Option<String>,
    pub test: Option<String>,
    /// The test's canonical identity across emitters (`model::test_id`).
    pub test_id: Option<String>,
    pub suite: Option<String>,
    /// The environment a deploy task (or deploying pipeline) deploys to, canonical
    /// (`model::deployment`); None on every other span.
    pub environment: Option<String>,
    pub outcome: Option<Outcome>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub repo: Option<String>,
    /// What started the run: `pull_request`, `push`, `schedule`, `manual`, or the raw
    /// trigger value lower-cased.
    pub trigger: Option<String>,
    /// The pull / merge request the run checks, as its number.
    pub change_id: Option<String>,
    pub change_title: Option<String>,
    /// The branch that pull request merges into.
    pub base_branch: Option<String>,
}

/// One span, source-neutral. Attribute values are stringified at decode time
/// (arrays and maps as compact JSON) because the store keeps `map<utf8,utf8>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span {
    /// 32 lowercase hex digits (shorter ids are left-padded with zeros).
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// `None` for a root span (empty or all-zero parent ids are normalised to `None`).
    pub parent_span_id: Option<String>,
    pub name: String,
    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub kind: String,
    /// `service.name` of the span's resource / process.
    pub service: Option<String>,
    /// Nanoseconds since the Unix epoch (UTC).
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: Status,
    pub status_message: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub resource: Vec<(String, String)>,
    pub links: Vec<Link>,
    pub source: Option<SourceKind>,
    pub ci: CiFields,
}

impl Span {
    /// First value of a span attribute.
    pub fn attr(&self, key: &str) -> Option<&str> {
        lookup(&self.attributes, key)
    }

    /// First value of a resource attribute.
    pub fn resource_attr(&self, key: &str) -> Option<&str> {
        lookup(&self.resource, key)
    }

    /// Duration in nanoseconds, never negative (clock skew can put end before start).
    pub fn duration_ns(&self) -> i64 {
        (self.end_ns - self.start_ns).max(0)
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}
