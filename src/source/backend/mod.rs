//! Trace backends pipescope pulls from: Jaeger (`jaeger`), Grafana Tempo (`tempo`) and
//! Zipkin (`zipkin`) query clients over one retrying HTTP client (`http`), with the
//! search-window and body types they share (`api`).

pub mod api;
pub mod http;
pub mod jaeger;
pub mod tempo;
pub mod zipkin;
