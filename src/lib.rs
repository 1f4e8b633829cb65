//! pipescope: analytics for CI/CD traces.
//!
//! Data flows through one module per stage:
//! `source` (decode OTLP / Jaeger / Zipkin into [`model::Span`]) →
//! `model` (the CI normaliser fills role, outcome, branch, …) →
//! `ingest` (batches spans by trace between the two and the store) →
//! `store` (atomic, deduplicated, date-partitioned Parquet) →
//! `query` (DataFusion over the store: named SQL queries plus graph analyses in Rust) →
//! `report` (table, JSON, CSV, Markdown).
//! `synth` generates CI traces with planted truth for the demo, tests and benchmarks;
//! `cli` is the command line over all of it.

pub mod cli;
pub mod gate;
pub mod ingest;
pub mod model;
pub mod nightly;
pub mod pull;
pub mod query;
pub mod receive;
pub mod report;
pub mod source;
pub mod store;
pub mod synth;
