//! Queries whose rows are consumed as they come rather than collected: the analyses
//! that walk every run or trace in Rust ([`Engine::fold`]), in memory bounded by
//! [`STREAM_MEMORY`] whatever the store holds.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::{Engine, NamedQuery, QueryError};

/// Memory a streamed query ([`Engine::fold`]) may hold before its sort spills, unless
/// `PIPESCOPE_STREAM_MEMORY` (bytes) says otherwise.
const STREAM_MEMORY: usize = 256 * 1024 * 1024;

fn stream_memory() -> usize {
    std::env::var("PIPESCOPE_STREAM_MEMORY")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(STREAM_MEMORY)
}

impl Engine {
    /// Runs a named query and hands its batches, as they come, to `each`, which folds
    /// them into a state made by `start`: memory is the state and the query's own,
    /// which [`STREAM_MEMORY`] bounds (a sort beyond it spills to temporary files).
    /// For the analyses that walk every trace in Rust. When a damaged file breaks the
    /// stream, it is left out and the fold starts again from `start()`; when the bound
    /// is too small for the query (a sort's merge cannot spill), it starts again
    /// without one, saying so.
    pub async fn fold<S>(
        &self,
        query: NamedQuery,
        params: Vec<(&str, ScalarValue)>,
        start: impl Fn() -> S,
        each: impl Fn(&mut S, RecordBatch) -> Result<(), QueryError>,
    ) -> Result<S, QueryError> {
        let attempt = |bounded: bool| {
            let (params, start, each) = (params.clone(), &start, &each);
            async move {
                let ctx = match bounded {
                    true => self.bounded_context()?,
                    false => self.context().clone(),
                };
                let mut frame = ctx.sql(query.sql()).await?;
                if !params.is_empty() {
                    frame = frame.with_param_values(params)?;
                }
                let mut stream = frame.execute_stream().await?;
                let mut state = start();
                while let Some(batch) = stream.next().await {
                    each(&mut state, batch?).map_err(|e| DataFusionError::External(Box::new(e)))?;
                }
                Ok(state)
            }
        };
        let failed = |source| QueryError::Named {
            query: query.name(),
            source,
        };
        match self.answer(|| attempt(true), failed).await {
            Err(QueryError::Named { source, .. })
                if matches!(source.find_root(), DataFusionError::ResourcesExhausted(_)) =>
            {
                tracing::warn!(
                    "{} needs more than the {} bytes it may hold while streaming ({}); running it without the bound: raise PIPESCOPE_STREAM_MEMORY to keep memory bounded",
                    query.name(),
                    stream_memory(),
                    source.find_root()
                );
                self.answer(|| attempt(false), failed).await
            }
            other => other,
        }
    }

    /// This session (its tables, views and file system) with memory bounded by
    /// [`STREAM_MEMORY`] (or `PIPESCOPE_STREAM_MEMORY`). Only the streamed queries get the bound: a hash join over
    /// it would fail rather than spill, so the collected queries keep the default.
    fn bounded_context(&self) -> Result<SessionContext, DataFusionError> {
        let memory = stream_memory();
        let runtime = RuntimeEnvBuilder::new()
            .with_object_store_registry(self.context().runtime_env().object_store_registry.clone())
            .with_memory_limit(memory, 1.0)
            .build_arc()?;
        let mut state = SessionStateBuilder::new_from_existing(self.context().state())
            .with_runtime_env(runtime)
            .build();
        // What a sort keeps back for merging its spill files (10 MB by default): an
        // eighth of the bound, so that a small bound still leaves room to sort.
        let execution = &mut state.config_mut().options_mut().execution;
        execution.sort_spill_reservation_bytes =
            (memory / 8).min(execution.sort_spill_reservation_bytes);
        Ok(SessionContext::new_with_state(state))
    }
}
