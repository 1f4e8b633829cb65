//! The backend a pull reads from, with its query: one type over the three query APIs
//! so that the pull loop is written once; and service discovery (Jaeger, Zipkin),
//! which turns one pull into one backend per service.

use regex::Regex;

use super::PullError;
use crate::model::Span;
use crate::source::backend::api::{SearchResult, Window};
use crate::source::backend::http::{HttpClient, HttpError};
use crate::source::backend::jaeger::{JaegerApi, JaegerQuery};
use crate::source::backend::tempo::{TempoApi, TempoQuery};
use crate::source::backend::zipkin::{ZipkinApi, ZipkinQuery};

/// A backend client plus what to search for.
#[derive(Debug)]
pub enum Backend {
    Jaeger { api: JaegerApi, query: JaegerQuery },
    Tempo { api: TempoApi, query: TempoQuery },
    Zipkin { api: ZipkinApi, query: ZipkinQuery },
}

impl Backend {
    /// `jaeger`, `tempo` or `zipkin`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Jaeger { .. } => "jaeger",
            Backend::Tempo { .. } => "tempo",
            Backend::Zipkin { .. } => "zipkin",
        }
    }

    /// The query as a canonical string: part of the checkpoint key.
    pub fn query_key(&self) -> String {
        match self {
            Backend::Jaeger { query, .. } => format!(
                "service={} operation={} tags={:?}",
                query.service,
                query.operation.as_deref().unwrap_or(""),
                query.tags
            ),
            Backend::Tempo { query, .. } => format!(
                "q={} tags={}",
                query.traceql.as_deref().unwrap_or(""),
                query.tags.as_deref().unwrap_or("")
            ),
            Backend::Zipkin { query, .. } => format!(
                "service={} span={} annotations={}",
                query.service,
                query.span_name.as_deref().unwrap_or(""),
                query.annotation_query.as_deref().unwrap_or("")
            ),
        }
    }

    /// The widest window one search may cover (Tempo refuses more than 168 h).
    pub fn max_window_ns(&self) -> i64 {
        match self {
            Backend::Tempo { .. } => crate::source::backend::tempo::MAX_SEARCH_WINDOW_NS,
            _ => i64::MAX,
        }
    }

    /// Results asked for per search unless `--limit` says otherwise. Jaeger and Zipkin
    /// answer a search with whole traces, so a smaller page keeps one answer small;
    /// Tempo answers with ids only.
    pub fn default_limit(&self) -> usize {
        match self {
            Backend::Tempo { .. } => 1000,
            _ => 200,
        }
    }

    /// The HTTP client (its retry counters feed the pull summary).
    pub fn http(&self) -> &HttpClient {
        match self {
            Backend::Jaeger { api, .. } => api.http(),
            Backend::Tempo { api, .. } => api.http(),
            Backend::Zipkin { api, .. } => api.http(),
        }
    }

    /// Traces in `window`, at most `limit`.
    pub async fn search(&self, window: Window, limit: usize) -> Result<SearchResult, HttpError> {
        match self {
            Backend::Jaeger { api, query } => api.search(query, window, limit).await,
            Backend::Tempo { api, query } => api.search(query, window, limit).await,
            Backend::Zipkin { api, query } => api.search(query, window, limit).await,
        }
    }

    /// A whole trace by id (only backends whose search returns summaries need this;
    /// the others always return full traces and never ask).
    pub async fn fetch(&self, trace_id: &str) -> Result<Vec<Span>, HttpError> {
        match self {
            Backend::Tempo { api, .. } => api.fetch(trace_id).await,
            _ => Ok(Vec::new()),
        }
    }
}

/// Which services to pull (Jaeger, Zipkin).
#[derive(Debug, Clone)]
pub enum Services {
    /// These, by name.
    Named(Vec<String>),
    /// Every service the server lists whose name matches.
    Matching(Regex),
}

impl Services {
    /// The names, listing the server's services (with `list`) when given by pattern.
    async fn resolve<F>(self, list: F) -> Result<Vec<String>, PullError>
    where
        F: Future<Output = Result<Vec<String>, HttpError>>,
    {
        let pattern = match self {
            Services::Named(names) => return Ok(names),
            Services::Matching(pattern) => pattern,
        };
        let all = list
            .await
            .map_err(|source| PullError::ListServices { source })?;
        let listed = all.len();
        let found: Vec<String> = all.into_iter().filter(|s| pattern.is_match(s)).collect();
        if found.is_empty() {
            return Err(PullError::NoServiceMatches {
                pattern: pattern.as_str().to_string(),
                listed,
            });
        }
        Ok(found)
    }
}

/// One backend per Jaeger service (each service is a query of its own, with its own
/// checkpoint), listing the server's services first when they are given by pattern.
pub async fn jaeger_backends(
    url: &str,
    http: &HttpClient,
    services: Services,
    operation: Option<String>,
    tags: Vec<(String, String)>,
) -> Result<Vec<Backend>, PullError> {
    let probe = JaegerApi::new(url, http.clone());
    let services = services.resolve(probe.services()).await?;
    Ok(services
        .into_iter()
        .map(|service| Backend::Jaeger {
            api: JaegerApi::new(url, http.clone()),
            query: JaegerQuery {
                service,
                operation: operation.clone(),
                tags: tags.clone(),
            },
        })
        .collect())
}

/// One backend per Zipkin service, as [`jaeger_backends`] (services listed from
/// `/api/v2/services` when given by pattern).
pub async fn zipkin_backends(
    url: &str,
    http: &HttpClient,
    services: Services,
    span_name: Option<String>,
    annotation_query: Option<String>,
) -> Result<Vec<Backend>, PullError> {
    let probe = ZipkinApi::new(url, http.clone());
    let services = services.resolve(probe.services()).await?;
    Ok(services
        .into_iter()
        .map(|service| Backend::Zipkin {
            api: ZipkinApi::new(url, http.clone()),
            query: ZipkinQuery {
                service,
                span_name: span_name.clone(),
                annotation_query: annotation_query.clone(),
            },
        })
        .collect())
}
