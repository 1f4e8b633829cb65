-- test_ids: the tests a name typed on the command line can mean: the test whose test_id
-- it is, the tests an emitter gave that name, and the tests whose test_id ends in it
-- (`test_totals` for `tests.integration.test_totals.test_totals`).
--   exact  the name is the test_id itself
-- Parameters: $name (utf8).
SELECT
    resolved_test_id AS test_id,
    BOOL_OR(resolved_test_id = $name) AS exact
FROM test_spans
WHERE resolved_test_id = $name
    OR test = $name
    OR btrim(regexp_replace(resolved_test_id, '^.*?([^.\[›]+(\[.*)?)$', '\1')) = $name
GROUP BY resolved_test_id
ORDER BY test_id;
