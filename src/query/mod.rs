//! Analyses over the span table: graph work in pure Rust (critical path, pass/fail
//! comparison) and the statistics they share.

pub mod compare;
pub mod critical_path;
pub mod stats;
pub mod tree;
