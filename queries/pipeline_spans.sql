-- The spans of every pipeline run (traces with a pipeline span), for the critical
-- path analysis in Rust. Attributes are left out: the walk does not need them.
SELECT
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
WHERE s.trace_id IN (SELECT trace_id FROM spans WHERE role = 'pipeline');
