-- Test identity. `test_id` is a test's canonical name across emitters (model/test_id.rs):
-- `tests.integration.test_totals.test_totals` whether pytest-otel sent a node id or a
-- JUnit report a class and a name. An emitter that gives only a bare name
-- (`test_totals`) cannot be qualified from one span; here it stands for the one
-- qualified id whose last part it is, in the same repository (or anywhere in the store
-- when its repository is unknown). When no id, or more than one, ends in it, the bare
-- name stays a test of its own: two `test_totals` in different modules stay apart.
--
-- Two statements, run by the engine before views.sql (query/engine.rs). The first
-- finds the bare names of `spans`, the command's window. Only when there are any does
-- the engine run the second, which reads the whole store (`all_spans`), so that a
-- window's bare names meet the ids of its baseline; without any, test_id_aliases is
-- an empty table of the same columns, and a window costs what the window holds. Every
-- query looks aliases up for spans of `spans` only, so nothing else can miss them.

-- The window's bare names: ids that are their own last part.
CREATE VIEW bare_test_ids AS
WITH ids AS (
    SELECT DISTINCT COALESCE(repo, '') AS repo, test_id
    FROM spans
    WHERE role = 'test' AND test_id IS NOT NULL
)
-- The regex runs once per distinct id, not once per execution (the same in both
-- statements: it is what "last part" means).
SELECT repo, test_id
FROM ids
WHERE btrim(regexp_replace(test_id, '^.*?([^.\[›]+(\[.*)?)$', '\1')) = test_id;

-- Each bare name with the one qualified id of the store whose last part it is.
CREATE VIEW test_id_aliases AS
WITH ids AS (
    SELECT DISTINCT COALESCE(repo, '') AS repo, test_id
    FROM all_spans
    WHERE role = 'test' AND test_id IS NOT NULL
),
leaves AS (
    SELECT repo, test_id, btrim(regexp_replace(test_id, '^.*?([^.\[›]+(\[.*)?)$', '\1')) AS leaf
    FROM ids
)
SELECT b.repo, b.test_id AS alias, MIN(q.test_id) AS test_id
FROM bare_test_ids b
JOIN leaves q ON q.leaf = b.test_id AND q.leaf <> q.test_id AND (q.repo = b.repo OR b.repo = '')
GROUP BY b.repo, b.test_id
HAVING COUNT(DISTINCT q.test_id) = 1;
