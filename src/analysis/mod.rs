//! The analyses: each answers one question of the store with DataFusion (the named
//! queries of `queries/`) and Rust where SQL expresses it badly (critical path,
//! pass/fail alignment, statistics), and returns typed rows or a typed report. None of
//! them knows about the command line or output formats.

pub mod bottlenecks;
pub mod compare;
pub mod critical_path;
pub mod delivery;
pub mod failure_cause;
pub mod failures;
pub mod flaky;
pub mod gate;
pub mod platform;
pub mod quarantine;
pub mod report;
pub mod stats;
pub mod time;
