//! The quarantine list's outputs: a table, the JSON contract, and arguments that test
//! runners take as they are.
//!
//! JSON (`schema_version` 1; adding a field is not a version change, see `render::json`):
//! ```json
//! {"schema_version": 1, "query": "quarantine", "params": {"since": "30d", …},
//!  "tests": [{"test": "tests.test_net.test_retry", "suite": "pytest",
//!             "since": "2026-11-20T10:00:00Z", "last_flake": "2026-12-01T09:12:00Z",
//!             "evidence": {"runs", "passes", "failures", "flaky_commits", "retry_passes",
//!                          "flake_rate", "flake_rate_low", "flake_rate_high", "score"}}]}
//! ```
//! `test` is the canonical test id (`model::test_id`): dotted, parameters kept
//! verbatim (`tests.test_x.TestA.test_y[a-1]`), Jest title paths joined by ` › `.
//!
//! Runner forms, each excluding exactly the listed tests (tests/quarantine.rs runs
//! pytest and cargo-nextest on a generated project to check it):
//! - `pytest`: one `--deselect=<node id>` per line, for `pytest @quarantine.txt`
//!   (pytest >= 8.2 reads arguments from a file). The node id is rebuilt from the dotted
//!   id: the module is the path up to the last `test_*` / `*_test` part (else up to the
//!   first part that starts with a capital, a class), e.g. `tests/test_x.py::TestA::test_y[a-1]`.
//!   pytest deselects by node-id *prefix*, so a listed `test_a` would also drop a
//!   `test_ab`; [`pytest_prefix_collisions`] names such cases.
//! - `go`: one `-skip` regular expression: `^TestA$|^TestB$/^case_1$` (Go splits it at
//!   top-level `|` and `/`; each element is anchored and quoted).
//! - `nextest`: a filterset for `cargo nextest run -E`: `not (test(=mod::test_a) | …)`.
//! - `surefire`: the value of `-Dtest`: `!com.acme.FooTest#testBar,!…`; parameters are
//!   dropped (Surefire filters methods by name), so every case of a listed method is out.
//! - `jest`: a `--testNamePattern` (`-t`) regular expression that matches every test
//!   but the listed ones: `^(?!(?:Cart adds an item|…)$)` (Jest joins titles with a
//!   space and matches case-insensitively).
//!
//! An empty list gives a form that excludes nothing (`all()` for nextest, `^` for Jest,
//! empty output otherwise).

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::analysis::quarantine::Entry;
use crate::render::{Rows, json::SCHEMA_VERSION, table};

/// `pipescope quarantine --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuarantineFormat {
    Table,
    Json,
    /// `--deselect=<node id>` lines for `pytest @file`.
    Pytest,
    /// A `go test -skip` regular expression.
    Go,
    /// A `cargo nextest run -E` filterset.
    Nextest,
    /// The value of Maven Surefire's `-Dtest`.
    Surefire,
    /// A Jest `--testNamePattern` that skips the listed tests.
    Jest,
}

/// Writes the list in `format`.
pub fn write(
    entries: &[Entry],
    params: &Map<String, Value>,
    format: QuarantineFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    let ids: Vec<&str> = entries.iter().map(|e| e.test.as_str()).collect();
    match format {
        QuarantineFormat::Table => writeln!(out, "{}", table::render(&rows(entries))),
        QuarantineFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &document(entries, params))?;
            writeln!(out)
        }
        QuarantineFormat::Pytest => {
            for arg in pytest_args(&ids) {
                writeln!(out, "{arg}")?;
            }
            Ok(())
        }
        QuarantineFormat::Go => writeln!(out, "{}", go_skip(&ids)),
        QuarantineFormat::Nextest => writeln!(out, "{}", nextest_filter(&ids)),
        QuarantineFormat::Surefire => writeln!(out, "{}", surefire_exclusion(&ids)),
        QuarantineFormat::Jest => writeln!(out, "{}", jest_name_pattern(&ids)),
    }
}

/// The JSON document.
pub fn document(entries: &[Entry], params: &Map<String, Value>) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "query": "quarantine",
        "params": params,
        "tests": entries,
    })
}

fn rows(entries: &[Entry]) -> Rows {
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                json!(e.test),
                json!(e.since),
                json!(e.last_flake),
                json!(e.evidence.flaky_commits),
                json!(format!("{}/{}", e.evidence.failures, e.evidence.runs)),
                json!(e.evidence.flake_rate),
                json!(e.evidence.score),
            ]
        })
        .collect();
    Rows {
        columns: [
            "test",
            "since",
            "last flake",
            "flaky commits",
            "failed/runs",
            "flake rate",
            "score",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// `head[params]` → (`head`, `[params]`): parameters start at the first `[`.
fn split_params(id: &str) -> (&str, &str) {
    match id.find('[') {
        Some(i) => id.split_at(i),
        None => (id, ""),
    }
}

/// The pytest node id of a dotted test id (see the module docs).
pub fn pytest_node_id(id: &str) -> String {
    let (head, params) = split_params(id);
    let parts: Vec<&str> = head.split('.').collect();
    let Some((function, qualifier)) = parts.split_last() else {
        return id.to_string();
    };
    let is_module = |p: &&str| p.starts_with("test") || p.ends_with("_test");
    let module_end = qualifier
        .iter()
        .rposition(is_module)
        .map(|i| i + 1)
        .or_else(|| {
            qualifier
                .iter()
                .position(|p| p.starts_with(|c: char| c.is_ascii_uppercase()))
        })
        .unwrap_or(qualifier.len());
    let (module, classes) = qualifier.split_at(module_end);
    let mut node = if module.is_empty() {
        String::new()
    } else {
        format!("{}.py::", module.join("/"))
    };
    for class in classes {
        node.push_str(class);
        node.push_str("::");
    }
    node.push_str(function);
    node.push_str(params);
    node
}

/// `--deselect=<node id>`, one per test.
pub fn pytest_args(ids: &[&str]) -> Vec<String> {
    ids.iter()
        .map(|id| format!("--deselect={}", pytest_node_id(id)))
        .collect()
}

/// Pairs (listed, other) where deselecting `listed` would also drop `other`, a test
/// that is not listed, because pytest matches node-id prefixes.
pub fn pytest_prefix_collisions(listed: &[&str], known: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for id in listed {
        let node = pytest_node_id(id);
        for other in known {
            if listed.contains(other) {
                continue;
            }
            let other_node = pytest_node_id(other);
            if other_node != node && other_node.starts_with(&node) {
                found.push((id.to_string(), other.to_string()));
            }
        }
    }
    found
}

/// Characters Go's RE2 syntax (and JavaScript's) treat as operators.
fn quote_regex(s: &str, specials: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if specials.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

const GO_SPECIALS: &str = "\\.+*?()|[]{}^$";

/// The Go test path of a test id: from the last `.Test`, `.Benchmark`, `.Example` or
/// `.Fuzz` on (the package path before it has dots of its own), else the whole id.
fn go_name(id: &str) -> &str {
    ["Test", "Benchmark", "Example", "Fuzz"]
        .iter()
        .filter_map(|prefix| id.rfind(&format!(".{prefix}")))
        .max()
        .map_or(id, |i| &id[i + 1..])
}

/// A `go test -skip` expression skipping exactly these tests (and their subtests).
pub fn go_skip(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| {
            go_name(id)
                .split('/')
                .map(|level| format!("^{}$", quote_regex(level, GO_SPECIALS)))
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// A nextest filterset that runs everything but these tests. Rust test paths are
/// `module::test`; the canonical id has dots.
pub fn nextest_filter(ids: &[&str]) -> String {
    if ids.is_empty() {
        return "all()".to_string();
    }
    let tests: Vec<String> = ids
        .iter()
        .map(|id| {
            let path = id.replace('.', "::");
            // `)` and `,` end a matcher's string; `\` escapes them.
            let escaped = quote_regex(&path, "\\),");
            format!("test(={escaped})")
        })
        .collect();
    format!("not ({})", tests.join(" | "))
}

/// The value of Surefire's `-Dtest`: an exclusion per test, `!Class#method`.
pub fn surefire_exclusion(ids: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let (head, _) = split_params(id);
        let entry = match head.rsplit_once('.') {
            Some((class, method)) => format!("!{class}#{method}"),
            None => format!("!{head}"),
        };
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    out.join(",")
}

const JS_SPECIALS: &str = "\\^$.*+?()[]{}|/";

/// The title separator of canonical Jest ids (`model::test_id`, `[test_id]`).
const TITLE_SEPARATOR: &str = " › ";

/// A Jest `--testNamePattern` matching every test name but these.
pub fn jest_name_pattern(ids: &[&str]) -> String {
    if ids.is_empty() {
        return "^".to_string();
    }
    let names: Vec<String> = ids
        .iter()
        .map(|id| quote_regex(&id.replace(TITLE_SEPARATOR, " "), JS_SPECIALS))
        .collect();
    format!("^(?!(?:{})$)", names.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytest_node_ids_from_dotted_ids() {
        let cases = [
            ("tests.test_net.test_retry", "tests/test_net.py::test_retry"),
            (
                "tests.unit.test_x.TestA.test_y[a-1.5/b]",
                "tests/unit/test_x.py::TestA::test_y[a-1.5/b]",
            ),
            ("pkg.api_test.test_get", "pkg/api_test.py::test_get"),
            (
                "app.checks.TestCart.test_total",
                "app/checks.py::TestCart::test_total",
            ),
            ("test_bare", "test_bare"),
        ];
        for (id, node) in cases {
            assert_eq!(pytest_node_id(id), node, "{id}");
        }
        assert_eq!(
            pytest_args(&["tests.test_a.test_b"]),
            vec!["--deselect=tests/test_a.py::test_b"]
        );
        let collisions = pytest_prefix_collisions(
            &["tests.test_a.test_b"],
            &[
                "tests.test_a.test_b",
                "tests.test_a.test_b_slow",
                "tests.test_a.test_c",
            ],
        );
        assert_eq!(
            collisions,
            vec![(
                "tests.test_a.test_b".into(),
                "tests.test_a.test_b_slow".into()
            )]
        );
    }

    /// Go's matcher, as testing/match.go applies `-skip`: split at top-level `|`
    /// into alternatives and at `/` into levels; a test is skipped when every level of
    /// one alternative matches its name's levels (and it has no fewer levels).
    fn go_skips(pattern: &str, name: &str) -> bool {
        let levels: Vec<&str> = name.split('/').collect();
        split_top(pattern, '|').iter().any(|alt| {
            let elems = split_top(alt, '/');
            elems.len() <= levels.len()
                && elems
                    .iter()
                    .zip(&levels)
                    .all(|(e, l)| regex_lite(e).map(|re| re == *l).unwrap_or(false))
        })
    }

    /// Splits at `sep` outside brackets and after unescaped characters.
    fn split_top(s: &str, sep: char) -> Vec<String> {
        let (mut out, mut cur, mut depth, mut escaped) = (Vec::new(), String::new(), 0, false);
        for c in s.chars() {
            if escaped {
                cur.push(c);
                escaped = false;
                continue;
            }
            match c {
                '\\' => {
                    escaped = true;
                    cur.push(c);
                    continue;
                }
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                _ => {}
            }
            if c == sep && depth == 0 {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        out.push(cur);
        out
    }

    /// An anchored, quoted literal `^…$` back to its text (what go_skip writes).
    fn regex_lite(e: &str) -> Option<String> {
        let inner = e.strip_prefix('^')?.strip_suffix('$')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                out.push(chars.next()?);
            } else if GO_SPECIALS.contains(c) {
                return None;
            } else {
                out.push(c);
            }
        }
        Some(out)
    }

    #[test]
    fn go_skip_excludes_exactly_the_listed_tests() {
        let listed = [
            "github.com/acme/shop/cart.TestTotal",
            "github.com/acme/shop/cart.TestPay/card_(visa)",
            "example.com/x.TestA.b|c",
        ];
        let pattern = go_skip(&listed);
        assert_eq!(
            pattern,
            "^TestTotal$|^TestPay$/^card_\\(visa\\)$|^TestA\\.b\\|c$"
        );
        for name in [
            "TestTotal",
            "TestTotal/sub",
            "TestPay/card_(visa)",
            "TestA.b|c",
        ] {
            assert!(go_skips(&pattern, name), "{name} should be skipped");
        }
        for name in [
            "TestTotals",
            "TestPay",
            "TestPay/card_(amex)",
            "XTestTotal",
            "TestA",
        ] {
            assert!(!go_skips(&pattern, name), "{name} should run");
        }
        assert_eq!(go_skip(&[]), "");
    }

    #[test]
    fn nextest_surefire_and_jest_forms() {
        assert_eq!(
            nextest_filter(&["tests.flaky_one", "gate.tests.retry"]),
            "not (test(=tests::flaky_one) | test(=gate::tests::retry))"
        );
        assert_eq!(nextest_filter(&[]), "all()");
        assert_eq!(
            surefire_exclusion(&[
                "com.acme.FooTest.testBar",
                "com.acme.FooTest.testParam[1]",
                "com.acme.FooTest.testParam[2]",
            ]),
            "!com.acme.FooTest#testBar,!com.acme.FooTest#testParam"
        );
        let pattern = jest_name_pattern(&["Cart › adds an item", "Price (EUR) › rounds 1.5"]);
        assert_eq!(
            pattern,
            "^(?!(?:Cart adds an item|Price \\(EUR\\) rounds 1\\.5)$)"
        );
        assert_eq!(jest_name_pattern(&[]), "^");
    }
}
