//! The backend a pull reads from, with its query: one type over the three query APIs
//! so that the pull loop is written once.

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
