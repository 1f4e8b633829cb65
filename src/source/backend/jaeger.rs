//! Jaeger's query APIs: api_v3 (`/api/v3/traces`, OTLP/JSON in a `result` wrapper,
//! 404 meaning "no traces") and, on servers without it, the v1 API (`/api/traces`,
//! Jaeger JSON, µs times). Which one a server speaks is probed once through the
//! services endpoint (`/api/v3/services`, 404 on v1-only servers).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU8, Ordering};

use chrono::SecondsFormat;

use crate::model::SourceKind;
use crate::source::BodyKind;
use crate::source::backend::api::{Found, SearchResult, Window, decode_strict, group_by_trace};
use crate::source::backend::http::{BodyError, HttpClient, HttpError, Response, expect_json};

/// What to search for.
#[derive(Debug, Clone, Default)]
pub struct JaegerQuery {
    pub service: String,
    pub operation: Option<String>,
    /// `key=value` span tags / attributes.
    pub tags: Vec<(String, String)>,
}

const UNKNOWN: u8 = 0;
const V3: u8 = 1;
const V1: u8 = 2;
/// api_v3 with the newer camelCase parameter names.
const V3_CAMEL: u8 = 3;

/// A Jaeger query-service client.
#[derive(Debug)]
pub struct JaegerApi {
    base: String,
    http: HttpClient,
    version: AtomicU8,
}

impl JaegerApi {
    /// The HTTP client (its retry counters feed the pull summary).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A client of the query service at `base` (e.g. `http://localhost:16686`).
    pub fn new(base: &str, http: HttpClient) -> JaegerApi {
        JaegerApi {
            base: base.trim_end_matches('/').to_string(),
            http,
            version: AtomicU8::new(UNKNOWN),
        }
    }

    /// `"api_v3"` or `"v1"` once probed.
    pub fn api_name(&self) -> &'static str {
        match self.version.load(Ordering::Relaxed) {
            V1 => "v1",
            UNKNOWN => "unknown",
            _ => "api_v3",
        }
    }

    /// Lists services (sorted), choosing api_v3 or v1 on the way: service discovery,
    /// for pulling every CI service of a server.
    pub async fn services(&self) -> Result<Vec<String>, HttpError> {
        let parse = |r: &Response| -> Result<Vec<String>, BodyError> {
            expect_json(r)?;
            let doc: serde_json::Value = serde_json::from_slice(&r.body)?;
            // v3: {"services":[...]}; v1: {"data":[...]}
            let list = doc
                .get("services")
                .or_else(|| doc.get("data"))
                .and_then(|v| v.as_array())
                .ok_or_else(|| {
                    BodyError::Shape("expected {\"services\": [...]} or {\"data\": [...]}".into())
                })?;
            Ok(list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect())
        };
        let v3 = format!("{}/api/v3/services", self.base);
        match self.http.get(&v3, &[], "application/json", parse).await {
            Ok(services) => {
                let _ = self.version.compare_exchange(
                    UNKNOWN,
                    V3,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                Ok(services)
            }
            Err(e) if e.status() == Some(404) => {
                self.version.store(V1, Ordering::Relaxed);
                let v1 = format!("{}/api/services", self.base);
                self.http.get(&v1, &[], "application/json", parse).await
            }
            Err(e) => Err(e),
        }
    }

    /// Full traces with spans starting in `window`, at most `limit` of them.
    pub async fn search(
        &self,
        query: &JaegerQuery,
        window: Window,
        limit: usize,
    ) -> Result<SearchResult, HttpError> {
        if self.version.load(Ordering::Relaxed) == UNKNOWN {
            self.services().await?;
        }
        match self.version.load(Ordering::Relaxed) {
            V1 => self.search_v1(query, window, limit).await,
            version => {
                let camel = version == V3_CAMEL;
                match self.search_v3(query, window, limit, camel).await {
                    // Older api_v3 gateways reject the names they do not know with 400.
                    Err(e) if e.status() == Some(400) && !camel => {
                        let found = self.search_v3(query, window, limit, true).await?;
                        self.version.store(V3_CAMEL, Ordering::Relaxed);
                        Ok(found)
                    }
                    other => other,
                }
            }
        }
    }

    async fn search_v3(
        &self,
        query: &JaegerQuery,
        window: Window,
        limit: usize,
        camel: bool,
    ) -> Result<SearchResult, HttpError> {
        let name = |snake: &'static str, camel_name: &'static str| {
            if camel { camel_name } else { snake }
        };
        let rfc3339 = |ns: i64| {
            chrono::DateTime::<chrono::Utc>::from_timestamp_nanos(ns)
                .to_rfc3339_opts(SecondsFormat::Nanos, true)
        };
        let mut params = vec![
            (
                name("query.service_name", "query.serviceName"),
                query.service.clone(),
            ),
            (
                name("query.start_time_min", "query.startTimeMin"),
                rfc3339(window.start_ns),
            ),
            (
                name("query.start_time_max", "query.startTimeMax"),
                rfc3339(window.end_ns),
            ),
            (
                name("query.search_depth", "query.searchDepth"),
                limit.to_string(),
            ),
        ];
        if let Some(op) = &query.operation {
            params.push((
                name("query.operation_name", "query.operationName"),
                op.clone(),
            ));
        }
        if !query.tags.is_empty() {
            let map: serde_json::Map<String, serde_json::Value> = query
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            params.push((
                "query.attributes",
                serde_json::Value::Object(map).to_string(),
            ));
        }
        let url = format!("{}/api/v3/traces", self.base);
        let parse = |r: &Response| {
            expect_json(r)?;
            decode_strict(BodyKind::OtlpJson, &r.body, &url, SourceKind::Jaeger)
        };
        match self
            .http
            .get(&url, &params, "application/json", parse)
            .await
        {
            Ok(spans) => Ok(found_traces(spans)),
            // api_v3 answers "no traces found" with 404.
            Err(e) if e.status() == Some(404) => Ok(SearchResult::default()),
            Err(e) => Err(e),
        }
    }

    async fn search_v1(
        &self,
        query: &JaegerQuery,
        window: Window,
        limit: usize,
    ) -> Result<SearchResult, HttpError> {
        let mut params = vec![
            ("service", query.service.clone()),
            ("start", (window.start_ns / 1000).to_string()),
            // v1 `end` is inclusive, in µs.
            ("end", ((window.end_ns - 1) / 1000).to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(op) = &query.operation {
            params.push(("operation", op.clone()));
        }
        for (k, v) in &query.tags {
            params.push(("tag", format!("{k}:{v}")));
        }
        let url = format!("{}/api/traces", self.base);
        let parse = |r: &Response| {
            expect_json(r)?;
            decode_strict(BodyKind::Jaeger, &r.body, &url, SourceKind::Jaeger)
        };
        let spans = self
            .http
            .get(&url, &params, "application/json", parse)
            .await?;
        Ok(found_traces(spans))
    }
}

fn found_traces(spans: Vec<crate::model::Span>) -> SearchResult {
    let found: Vec<Found> = group_by_trace(spans)
        .into_iter()
        .map(Found::Spans)
        .collect();
    SearchResult {
        hits: found.len(),
        found,
    }
}
