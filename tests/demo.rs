//! `pipescope demo` as a user meets it: every analysis finding something in the
//! bundled history, as Markdown and as the terminal table, and its bad arguments —
//! `--format json|csv` among them: the demo's several tables have no single JSON or CSV
//! form, so clap refuses them by name.

mod common;

use common::{Env, assert_cli};

#[test]
fn demo_shows_every_analysis_finding_something() {
    let env = Env::new();
    let (code, stdout, stderr) = env.run(&["demo", "--format", "markdown"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("demo_markdown", stdout);
}

#[test]
fn table() {
    assert_cli!("table", Env::new(), ["demo"]);
}

#[test]
fn bad_arguments() {
    let env = Env::new();
    assert_cli!("bad_format", env, ["demo", "--format", "html"]);
    assert_cli!("json_is_refused", env, ["demo", "--format", "json"]);
    assert_cli!("csv_is_refused", env, ["demo", "--format", "csv"]);
    let file = env.arg(&env.write("file", ""));
    assert_cli!("keep_is_a_file", env, ["demo", "--keep", &file]);
}
