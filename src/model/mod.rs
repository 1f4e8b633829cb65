//! The span model, the trace tree and the CI normaliser. No I/O happens here: sources
//! hand spans in, the store takes them out.

pub mod conventions;
pub mod deployment;
pub mod normalize;
pub mod span;
pub mod test_id;
pub mod tree;

pub use conventions::{Conventions, ConventionsError};
pub use normalize::{Normalizer, TraceFacts};
pub use span::{CiFields, Link, Outcome, Role, SourceKind, Span, Status};
