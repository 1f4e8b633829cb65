-- The spans of every pipeline run (see run_traces in views.sql), for the critical path
-- analysis in Rust, keyed by the run: a run without a pipeline span may span several
-- traces. Attributes are left out: the walk does not need them. Sorted by the run so
-- that the analysis takes one run at a time off the stream (the sort spills to disk
-- past the stream's memory bound, see Engine::fold).
SELECT
    arrow_cast(r.run_key, 'Utf8') AS run_key,
    s.trace_id,
    s.span_id,
    s.parent_span_id,
    s.name,
    s.start_time,
    s.end_time,
    s.status,
    s.role,
    s.pipeline,
    s.task,
    s.test,
    s.outcome
FROM spans s
JOIN run_traces r ON s.trace_id = r.trace_id
ORDER BY run_key, s.trace_id, s.span_id;
