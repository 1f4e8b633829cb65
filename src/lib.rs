//! pipescope: analytics for CI/CD traces.
//!
//! Data flows through one module per stage, and imports only point down this list:
//!
//! - `cli`: the command line, one module per subcommand (arguments → analysis → renderer);
//! - `render`: table, JSON, CSV, Markdown, GitHub annotations, HTML + SVG;
//! - `analysis`: flaky, compare, bottlenecks, failures, gate, the nightly report's data;
//! - `query`: the DataFusion engine over the store, named SQL, traces loaded as trees;
//! - `pull` / `receive`: traces fetched from a backend / pushed over OTLP, into the store;
//! - `ingest`: batches decoded spans by trace between the normaliser and the store;
//! - `store`: atomic, deduplicated, date-partitioned Parquet and its Arrow schema, the
//!   writer's records, the format version, and the integrity checks and repair;
//! - `source`: decoders for every wire format (`decode`) and backend clients (`backend`);
//! - `model`: the span, the trace tree and the CI normaliser (no I/O).
//!
//! `synth` generates CI traces with planted truth for the demo, tests and benchmarks.

pub mod analysis;
pub mod cli;
pub mod ingest;
pub mod model;
pub mod pull;
pub mod query;
pub mod receive;
pub mod render;
pub mod source;
pub mod store;
pub mod synth;
