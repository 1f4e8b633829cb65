//! The nightly reliability report (`pipescope report`): [`data`] gathers it from the
//! store (reusing flaky, compare, failures, the critical path and the gate), [`render`]
//! writes HTML with inline [`svg`] charts, Markdown or JSON.

pub mod data;
pub mod render;
pub mod svg;

pub use data::{ReportData, gather};
