//! `pipescope pull jaeger|tempo|zipkin`: fetch traces from a backend's query API into
//! the store. This module maps the flags onto the client's `HttpConfig`, the backend
//! queries and `PullOptions`, runs `crate::pull` (completeness, checkpoints, running
//! traces, Jaeger and Zipkin service discovery) and prints its summary.
//!
//! Exit status: 0 when the range was pulled completely; 2 when something was missed
//! (requests that failed after retries, windows still full at the minimum width
//! without `--allow-partial`) or on error.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::analysis::time::{now_ns, parse_time};
use crate::ingest::IngestOptions;
use crate::model::conventions::Conventions;
use crate::pull::{
    Backend, PullOptions, PullSummary, Services, jaeger_backends, pull, zipkin_backends,
};
use crate::source::backend::http::{Auth, HttpClient, HttpConfig, Secret};
use crate::source::backend::tempo::{TENANT_HEADER, TempoApi, TempoQuery};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub backend: BackendArgs,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum BackendArgs {
    /// Jaeger query service (api_v3, falling back to the v1 HTTP API).
    Jaeger {
        /// Service whose traces to pull (repeatable). Without it, every service matching
        /// --service-regex is pulled.
        #[arg(long)]
        service: Vec<String>,
        /// With no --service: pull the services whose name matches this regex.
        #[arg(long, default_value = ".*")]
        service_regex: String,
        /// Only traces with this operation (span name).
        #[arg(long)]
        operation: Option<String>,
        /// Only traces with this tag, `key=value` (repeatable).
        #[arg(long = "tag", value_parser = parse_tag)]
        tags: Vec<(String, String)>,
        #[command(flatten)]
        common: Common,
    },
    /// Grafana Tempo (`/api/search`, then each trace by id).
    Tempo {
        /// TraceQL query, e.g. '{ resource.service.name = "ci" }'.
        #[arg(long, conflicts_with = "tags")]
        query: Option<String>,
        /// Tag search in logfmt, e.g. 'service.name=ci cicd.pipeline.name=build'.
        #[arg(long)]
        tags: Option<String>,
        /// Tenant for multi-tenant Tempo (sent as X-Scope-OrgID).
        #[arg(long)]
        org_id: Option<String>,
        /// Ask for protobuf trace bodies instead of JSON.
        #[arg(long)]
        protobuf: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Zipkin (`/api/v2/traces`).
    Zipkin {
        /// Service whose traces to pull (repeatable). Without it, every service matching
        /// --service-regex is pulled (listed from /api/v2/services).
        #[arg(long)]
        service: Vec<String>,
        /// With no --service: pull the services whose name matches this regex.
        #[arg(long, default_value = ".*")]
        service_regex: String,
        /// Only traces with a span of this name.
        #[arg(long)]
        span_name: Option<String>,
        /// Zipkin annotation query, e.g. 'error and cicd.pipeline.name=build'.
        #[arg(long)]
        annotation_query: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// Flags every backend shares.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Base URL of the backend's query API, e.g. http://localhost:16686.
    #[arg(long)]
    pub url: String,
    /// Pull from this long ago (7d, 12h) or this date/time. Default: continue from the
    /// checkpoint, or 7d on the first pull.
    #[arg(long, conflicts_with = "start")]
    pub since: Option<String>,
    /// Start of the range: RFC 3339 time or date (UTC midnight).
    #[arg(long)]
    pub start: Option<String>,
    /// End of the range (default: now).
    #[arg(long)]
    pub end: Option<String>,
    /// When continuing from the checkpoint, re-read this much before it (late spans).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub overlap: Duration,
    /// Width of the first search windows. Default: the whole range (Tempo: 168 h at
    /// most). Windows that come back full are split in halves, so a sparse range takes
    /// few searches and a dense one only as many as it needs.
    #[arg(long, value_parser = parse_duration)]
    pub window: Option<Duration>,
    /// Full windows are split down to this width and no further.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub min_window: Duration,
    /// Results asked for per search (limit / search depth). Default: 200 for Jaeger
    /// and Zipkin (whose answers hold whole traces), 1000 for Tempo (ids only).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Do not fail when a window is still full at the minimum width (traces may be
    /// missing); the warning is still printed.
    #[arg(long)]
    pub allow_partial: bool,
    /// Bearer token (prefer --token-env: command lines are visible to other users).
    #[arg(long, conflicts_with_all = ["token_env", "basic_auth_env"])]
    pub token: Option<String>,
    /// Environment variable holding a bearer token.
    #[arg(long, conflicts_with = "basic_auth_env")]
    pub token_env: Option<String>,
    /// Environment variable holding `user:password` for basic authentication.
    #[arg(long)]
    pub basic_auth_env: Option<String>,
    /// Extra header 'Name: value' (repeatable).
    #[arg(long = "header", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Trace fetches in flight at once (Tempo fetches each trace by id).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Timeout of one request (connect to last byte).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Attempts per request, the first included.
    #[arg(long, default_value_t = 5)]
    pub max_attempts: u32,
    /// First retry delay (doubled per attempt, with jitter).
    #[arg(long, default_value = "250ms", value_parser = parse_duration)]
    pub retry_delay: Duration,
    /// Do NOT verify TLS certificates. Only for test servers you control.
    #[arg(long)]
    pub insecure: bool,
    /// A TOML conventions file adding attribute keys to the built-in ones.
    #[arg(long, env = "PIPESCOPE_CONVENTIONS")]
    pub conventions: Option<PathBuf>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("'{text}': {e} (e.g. 10m, 1h, 500ms)"))
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("'{text}': expected key=value"))
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    text.split_once(':')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| "expected 'Name: value' (value not shown)".to_string())
}

/// The HTTP client configuration the flags describe (credentials are read from the
/// environment when the client is built).
fn http_config(common: &Common, extra: Vec<(String, String)>) -> HttpConfig {
    let mut headers = common.headers.clone();
    headers.extend(extra);
    HttpConfig {
        timeout: common.timeout,
        insecure: common.insecure,
        auth: Auth {
            bearer: match (&common.token, &common.token_env) {
                (Some(token), _) => Some(Secret::Value(token.clone())),
                (None, Some(var)) => Some(Secret::Env(var.clone())),
                _ => None,
            },
            basic: common.basic_auth_env.clone().map(Secret::Env),
        },
        headers,
        max_attempts: common.max_attempts,
        base_delay: common.retry_delay,
        ..HttpConfig::default()
    }
}

fn http_client(common: &Common, extra: Vec<(String, String)>) -> anyhow::Result<HttpClient> {
    let client = HttpClient::new(http_config(common, extra))?;
    if common.insecure {
        eprintln!("warning: --insecure: TLS certificates are NOT verified");
    }
    Ok(client)
}

fn options(common: &Common) -> anyhow::Result<PullOptions> {
    let now = now_ns();
    let mut options = PullOptions::new(now);
    let at = |text: &str| parse_time(text, now).map_err(anyhow::Error::msg);
    if let Some(end) = &common.end {
        options.end_ns = at(end)?;
    }
    options.start_ns = match (&common.start, &common.since) {
        (Some(t), _) | (None, Some(t)) => Some(at(t)?),
        _ => None,
    };
    if let Some(start) = options.start_ns
        && start >= options.end_ns
    {
        bail!("the range is empty: start is not before end");
    }
    let ns = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    options.overlap_ns = ns(common.overlap);
    options.window_ns = common.window.map(|w| ns(w).max(1));
    options.min_window_ns = ns(common.min_window).max(1);
    options.limit = common.limit.map(|limit| limit.max(1));
    options.concurrency = common.concurrency.max(1);
    options.allow_partial = common.allow_partial;
    let conventions = match &common.conventions {
        Some(path) => Conventions::builtin().with_user_file(path)?,
        None => Conventions::builtin(),
    };
    options.ingest = IngestOptions {
        conventions,
        ..IngestOptions::default()
    };
    Ok(options)
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open(data)
        .with_context(|| format!("cannot open the store at {}", data.display()))?;
    let (backends, common) = match args.backend {
        BackendArgs::Jaeger {
            service,
            service_regex,
            operation,
            tags,
            common,
        } => {
            let http = http_client(&common, Vec::new())?;
            let services = services(service, &service_regex)?;
            let backends = jaeger_backends(&common.url, &http, services, operation, tags).await?;
            (backends, common)
        }
        BackendArgs::Tempo {
            query,
            tags,
            org_id,
            protobuf,
            common,
        } => {
            let extra = org_id
                .map(|id| vec![(TENANT_HEADER.to_string(), id)])
                .unwrap_or_default();
            let http = http_client(&common, extra)?;
            let backend = Backend::Tempo {
                api: TempoApi::new(&common.url, http, protobuf),
                query: TempoQuery {
                    traceql: query,
                    tags,
                },
            };
            (vec![backend], common)
        }
        BackendArgs::Zipkin {
            service,
            service_regex,
            span_name,
            annotation_query,
            common,
        } => {
            let http = http_client(&common, Vec::new())?;
            let services = services(service, &service_regex)?;
            let backends =
                zipkin_backends(&common.url, &http, services, span_name, annotation_query).await?;
            (backends, common)
        }
    };
    let options = options(&common)?;
    let mut incomplete = false;
    for backend in &backends {
        let started = Instant::now();
        let bar = progress_bar();
        let result = pull(&store, backend, &common.url, &options, &mut |s| {
            // How much of the range is done, in per mille (the number of windows is
            // not known ahead: full windows are split as they come).
            if let (Some(range), Some(done)) = (s.range, s.done_to_ns) {
                let width = range.width_ns().max(1) as f64;
                bar.set_position(((done - range.start_ns) as f64 / width * 1000.0) as u64);
            }
            bar.set_message(format!(
                "{} windows, {} traces, {} retries, {} failures",
                s.windows,
                s.traces,
                s.retries,
                s.failures.len()
            ));
        })
        .await;
        bar.finish_and_clear();
        let summary = result?;
        report(backend, &summary, started.elapsed().as_secs_f64());
        incomplete |= summary.incomplete(options.allow_partial);
    }
    Ok(if incomplete {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Jaeger's and Zipkin's services: those named, or those the server lists matching
/// the pattern.
fn services(named: Vec<String>, pattern: &str) -> anyhow::Result<Services> {
    if !named.is_empty() {
        return Ok(Services::Named(named));
    }
    let pattern =
        regex::Regex::new(pattern).with_context(|| format!("--service-regex '{pattern}'"))?;
    Ok(Services::Matching(pattern))
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(1000);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {percent}% of the range {msg}") {
        bar.set_style(style);
    }
    bar
}

fn report(backend: &Backend, s: &PullSummary, seconds: f64) {
    let range = s.range.map(|r| r.to_string()).unwrap_or_default();
    eprintln!(
        "pulled {} {} {range}{}: {} windows ({} searches), {} traces, {} spans, {} stored, {} already stored, {} still running, {} requests, {} retries, {} failures ({:.1}s, {:.0} traces/s)",
        backend.name(),
        backend.query_key(),
        if s.resumed {
            " (from the checkpoint)"
        } else {
            ""
        },
        s.windows,
        s.searches,
        s.traces,
        s.spans,
        s.stored,
        s.duplicates,
        s.running,
        s.requests,
        s.retries,
        s.failures.len(),
        seconds,
        s.traces as f64 / seconds.max(1e-9),
    );
    for partial in &s.partial {
        eprintln!("warning: {partial}");
    }
    for failure in &s.failures {
        eprintln!("skipped: {failure}");
    }
    if !s.failures.is_empty() || !s.partial.is_empty() {
        eprintln!(
            "hint: the checkpoint stops before the first incomplete window; run pull again to retry from there"
        );
    }
}
