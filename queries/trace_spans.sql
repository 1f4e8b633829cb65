-- The spans the graph analyses (critical path, compare) walk in Rust: every span of
-- the traces that contain a span with the given role (and test name, when given).
-- Parameters: $role (utf8), $test (utf8, '' = any).
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
    s.outcome,
    s.attributes
FROM spans s
WHERE s.trace_id IN (
    SELECT trace_id FROM spans
    WHERE role = $role AND ($test = '' OR test = $test)
);
