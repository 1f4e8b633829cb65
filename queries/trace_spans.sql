-- The spans the graph analyses (critical path, compare) walk in Rust: every span of
-- the traces that contain a span with the given role (and test, when given).
-- `test` is the test's identity (see test_spans), so `$test` is a test_id.
-- Sorted by trace, so that the analysis takes one trace at a time off the stream
-- (Engine::fold), then by span id so that a trace's tree is built the same way
-- every time. Parameters: $role (utf8), $test (utf8, '' = any).
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
    COALESCE(a.test_id, s.test_id, s.test) AS test,
    s.outcome,
    s.attributes
FROM spans s
LEFT JOIN test_id_aliases a
    ON s.role = 'test' AND COALESCE(s.repo, '') = a.repo AND s.test_id = a.alias
WHERE s.trace_id IN (
    SELECT trace_id FROM spans WHERE role = $role AND $test = ''
    UNION
    SELECT trace_id FROM test_spans WHERE $role = 'test' AND resolved_test_id = $test
)
ORDER BY s.trace_id, s.span_id;
