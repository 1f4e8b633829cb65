//! Grafana Tempo's HTTP API: `/api/search` (seconds, `limit`, at most 168 h per
//! request; trace ids with their leading zeros stripped) and the trace by id,
//! `/api/v2/traces/{id}` (`{"trace": …}`) with a fallback to `/api/traces/{id}`
//! (`{"batches": …}`) on older servers, as OTLP/JSON or protobuf.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::{SourceKind, Span};
use crate::source::BodyKind;
use crate::source::backend::api::{
    Found, SearchResult, Window, decode_strict, pad_trace_id, secs_ceil, secs_floor,
};
use crate::source::backend::http::{BodyError, HttpClient, HttpError, Response, expect_json};

/// The header naming the tenant of a multi-tenant Tempo.
pub const TENANT_HEADER: &str = "X-Scope-OrgID";

/// Longest window Tempo accepts in one search.
pub const MAX_SEARCH_WINDOW_NS: i64 = 168 * 3600 * 1_000_000_000;

/// What to search for: TraceQL (`q`) or the older `tags` (logfmt `k=v k2=v2`).
#[derive(Debug, Clone, Default)]
pub struct TempoQuery {
    pub traceql: Option<String>,
    pub tags: Option<String>,
}

/// A Tempo client.
#[derive(Debug)]
pub struct TempoApi {
    base: String,
    http: HttpClient,
    protobuf: bool,
    /// Set once `/api/v2/traces` answered 404: the server only has the v1 path.
    v1_only: AtomicBool,
}

/// `TraceByIDResponse` of `/api/v2/traces/{id}` in protobuf: field 1 is the trace,
/// whose field 1 (`resourceSpans`) matches `TracesData`.
#[derive(Clone, PartialEq, prost::Message)]
struct TraceByIdResponse {
    #[prost(bytes = "vec", tag = "1")]
    trace: Vec<u8>,
}

impl TempoApi {
    /// The HTTP client (its retry counters feed the pull summary).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// `protobuf` asks for `application/protobuf` trace bodies (smaller, faster).
    pub fn new(base: &str, http: HttpClient, protobuf: bool) -> TempoApi {
        TempoApi {
            base: base.trim_end_matches('/').to_string(),
            http,
            protobuf,
            v1_only: AtomicBool::new(false),
        }
    }

    /// Ids of traces starting in `window` (at most `limit`), zero-padded to 32 digits.
    pub async fn search(
        &self,
        query: &TempoQuery,
        window: Window,
        limit: usize,
    ) -> Result<SearchResult, HttpError> {
        let mut params = vec![
            ("start", secs_floor(window.start_ns).to_string()),
            ("end", secs_ceil(window.end_ns).to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(q) = &query.traceql {
            params.push(("q", q.clone()));
        }
        if let Some(tags) = &query.tags {
            params.push(("tags", tags.clone()));
        }
        let url = format!("{}/api/search", self.base);
        let parse = |r: &Response| -> Result<Vec<String>, BodyError> {
            expect_json(r)?;
            let doc: serde_json::Value = serde_json::from_slice(&r.body)?;
            let traces = match doc.get("traces") {
                Some(serde_json::Value::Array(traces)) => traces.as_slice(),
                // Tempo omits `traces` when nothing matched.
                None | Some(serde_json::Value::Null) => &[],
                Some(_) => return Err(BodyError::Shape("`traces` is not an array".into())),
            };
            traces
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    t.get("traceID")
                        .and_then(|v| v.as_str())
                        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()))
                        .map(pad_trace_id)
                        .ok_or_else(|| {
                            BodyError::Shape(format!("$.traces[{i}].traceID: expected a hex id"))
                        })
                })
                .collect()
        };
        let ids = self
            .http
            .get(&url, &params, "application/json", parse)
            .await?;
        Ok(SearchResult {
            hits: ids.len(),
            found: ids.into_iter().map(Found::Id).collect(),
        })
    }

    /// The whole trace `id`. `Ok(vec![])` when the server does not know it.
    pub async fn fetch(&self, id: &str) -> Result<Vec<Span>, HttpError> {
        if !self.v1_only.load(Ordering::Relaxed) {
            let url = format!("{}/api/v2/traces/{id}", self.base);
            match self.fetch_from(&url, true).await {
                Err(e) if e.status() == Some(404) => {
                    // Either an old server or an unknown trace: the v1 path tells which.
                }
                other => return other,
            }
        }
        let url = format!("{}/api/traces/{id}", self.base);
        match self.fetch_from(&url, false).await {
            Ok(spans) => {
                self.v1_only.store(true, Ordering::Relaxed);
                Ok(spans)
            }
            Err(e) if e.status() == Some(404) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn fetch_from(&self, url: &str, v2: bool) -> Result<Vec<Span>, HttpError> {
        let accept = if self.protobuf {
            "application/protobuf"
        } else {
            "application/json"
        };
        let parse = |r: &Response| {
            if r.content_type.contains("protobuf") {
                let body = if v2 {
                    let wrapper: TraceByIdResponse = prost::Message::decode(r.body.as_slice())?;
                    wrapper.trace
                } else {
                    r.body.clone()
                };
                decode_strict(BodyKind::OtlpProto, &body, url, SourceKind::Tempo)
            } else {
                expect_json(r)?;
                decode_strict(BodyKind::OtlpJson, &r.body, url, SourceKind::Tempo)
            }
        };
        self.http.get(url, &[], accept, parse).await
    }
}
