//! `pipescope sql` as a user meets it: a query from the command line or a file, the
//! shared views, several statements, and what it says about bad SQL.

mod common;

use common::{Env, assert_cli, store_with_runs};

#[test]
fn sql_reads_a_file_and_the_shared_views() {
    let env = store_with_runs(&[("main", "pass"), ("main", "fail")]);
    let query = env.write(
        "q.sql",
        "-- runs per branch\nSELECT branch, COUNT(*) AS runs FROM pipeline_runs GROUP BY branch;",
    );
    let rows = env.rows(&["sql", "-f", &query.display().to_string()]);
    assert_eq!(rows, vec![serde_json::json!({"branch": "main", "runs": 2})]);
    let tests = env.sql("SELECT test, failed FROM test_executions ORDER BY failed");
    assert_eq!(tests.len(), 2);
    assert_cli!("file", env, ["sql", "-f", &env.arg(&query)]);
    let csv = [
        "sql",
        "SELECT test, failed FROM test_executions ORDER BY failed",
    ];
    assert_cli!(
        "view_csv",
        env,
        [csv.as_slice(), &["--format", "csv"]].concat()
    );
}

#[test]
fn bad_sql_is_an_error() {
    let env = common::one_run_store();
    let (code, _, stderr) = env.run(&["sql", "SELEKT nothing"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_cli!("parse_error", env, ["sql", "SELEKT nothing"]);
    assert_cli!("unknown_table", env, ["sql", "SELECT * FROM nope"]);
    assert_cli!("empty", env, ["sql", ""]);
}

#[test]
fn statements_and_arguments() {
    let env = common::one_run_store();
    let two = "SELECT 1 AS a; SELECT count(*) AS spans FROM spans";
    assert_cli!("last_statement_prints", env, ["sql", two]);
    assert_cli!(
        "no_rows",
        env,
        ["sql", "SELECT name FROM spans WHERE false"]
    );
    assert_cli!("no_query", env, ["sql"]);
    assert_cli!("query_and_file", env, ["sql", "SELECT 1", "-f", "q.sql"]);
    assert_cli!("missing_file", env, ["sql", "-f", "/no/such/q.sql"]);
    assert_cli!("no_store", Env::new(), ["sql", "SELECT 1"]);
}
