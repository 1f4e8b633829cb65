//! pipescope: analytics for CI/CD traces.
//!
//! Data flows through one module per stage:
//! `source` (decode OTLP / Jaeger / Zipkin into [`model::Span`]) →
//! `model` (the CI normaliser fills role, outcome, branch, …) →
//! `store` (atomic, deduplicated, date-partitioned Parquet) →
//! `query` (DataFusion over the store: named SQL queries plus graph analyses in Rust) →
//! `report` (table, JSON, CSV, Markdown).

pub mod model;
pub mod source;
pub mod store;
pub mod synth;
