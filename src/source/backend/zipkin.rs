//! Zipkin's query API: `/api/v2/traces?serviceName=&endTs=&lookback=&limit=` (ms),
//! answering a list of traces, each a list of Zipkin v2 spans; and `/api/v2/services`,
//! the list of service names, for service discovery.

use crate::model::SourceKind;
use crate::source::BodyKind;
use crate::source::backend::api::{Found, SearchResult, Window, decode_strict, group_by_trace};
use crate::source::backend::http::{BodyError, HttpClient, HttpError, Response, expect_json};

/// What to search for.
#[derive(Debug, Clone, Default)]
pub struct ZipkinQuery {
    pub service: String,
    pub span_name: Option<String>,
    /// Zipkin's `annotationQuery` (`error and http.method=GET`).
    pub annotation_query: Option<String>,
}

/// A Zipkin client.
#[derive(Debug)]
pub struct ZipkinApi {
    base: String,
    http: HttpClient,
}

impl ZipkinApi {
    /// The HTTP client (its retry counters feed the pull summary).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A client of the Zipkin server at `base` (e.g. `http://localhost:9411`).
    pub fn new(base: &str, http: HttpClient) -> ZipkinApi {
        ZipkinApi {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    /// The service names the server knows, sorted.
    pub async fn services(&self) -> Result<Vec<String>, HttpError> {
        let url = format!("{}/api/v2/services", self.base);
        let parse = |r: &Response| -> Result<Vec<String>, BodyError> {
            expect_json(r)?;
            let names: Vec<String> = serde_json::from_slice(&r.body)?;
            Ok(names)
        };
        let mut names = self.http.get(&url, &[], "application/json", parse).await?;
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Full traces with a span in `window`, at most `limit`.
    pub async fn search(
        &self,
        query: &ZipkinQuery,
        window: Window,
        limit: usize,
    ) -> Result<SearchResult, HttpError> {
        // endTs is inclusive: the last ms of the window.
        let end_ms = (window.end_ns - 1).div_euclid(1_000_000);
        let start_ms = window.start_ns.div_euclid(1_000_000);
        let mut params = vec![
            ("serviceName", query.service.clone()),
            ("endTs", end_ms.to_string()),
            ("lookback", (end_ms - start_ms).max(1).to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(name) = &query.span_name {
            params.push(("spanName", name.clone()));
        }
        if let Some(q) = &query.annotation_query {
            params.push(("annotationQuery", q.clone()));
        }
        let url = format!("{}/api/v2/traces", self.base);
        let parse = |r: &Response| {
            expect_json(r)?;
            decode_strict(BodyKind::Zipkin, &r.body, &url, SourceKind::Zipkin)
        };
        let spans = self
            .http
            .get(&url, &params, "application/json", parse)
            .await?;
        let found: Vec<Found> = group_by_trace(spans)
            .into_iter()
            .map(Found::Spans)
            .collect();
        Ok(SearchResult {
            hits: found.len(),
            found,
        })
    }
}
