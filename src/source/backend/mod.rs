//! Trace backends pipescope pulls from: the query clients of Jaeger (`jaeger`), Grafana
//! Tempo (`tempo`) and Zipkin (`zipkin`), over one HTTP client (`http`: its config,
//! authentication, redaction) whose retry policy is `retry`; `api` has what the
//! clients share with `pull` (the search [`Window`](api::Window), what a search
//! found, strict decoding of response bodies). Each client turns answers into
//! `model::Span`s; splitting windows, checkpoints and storing are `pull`'s.

pub mod api;
pub mod http;
pub mod jaeger;
pub mod retry;
pub mod tempo;
pub mod zipkin;
