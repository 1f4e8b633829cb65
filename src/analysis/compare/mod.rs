//! Why does a flaky test fail? Lines up the spans below a test's passing executions
//! against those below its failing ones and ranks the differences, most likely cause
//! first.
//!
//! [`compare_test`] loads the traces holding a test's executions (as
//! [`TraceTree`](crate::model::tree::TraceTree)s, through the query layer), calls
//! [`executions_from_tree`] for each test span and [`compare`] on them; [`explain`]
//! does that for one named test or every flaky one, giving the rows of
//! `pipescope compare`. Pipeline:
//! `execution` (per-execution span facts) → `aggregate` (per span name and side) →
//! `signals` (one statistical test per candidate cause) → ranking (here).
//!
//! Signals, each with a two-sided p-value:
//! - `duration`: Mann-Whitney U on the span's *self* time (its duration minus its
//!   children's), so a parent that is slow only because a child is slow does not compete
//!   with the child; the p50/mean fields report total durations.
//! - `self_duration`: the same for the test span's own time.
//! - `error`: Fisher's exact test on how many executions the span is an error origin in
//!   (errored, nothing below it errored), failing vs passing.
//! - `attribute`: Fisher's exact test on executions carrying a `key=value` on the span,
//!   only for values more frequent when failing.
//! - `missing` / `extra`: Fisher's exact test on presence of the span.

mod aggregate;
mod execution;
mod signals;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;

use datafusion::common::ScalarValue;

use crate::query::{Engine, NamedQuery, QueryError, load, rows::records};

pub use execution::{Descendant, Execution, Verdict, executions_from_tree, self_time};

/// Which kind of difference a row reports (serialised in snake_case).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    #[default]
    Duration,
    Error,
    Attribute,
    Missing,
    Extra,
    SelfDuration,
}

/// One candidate cause. Its fields, in order, are the JSON contract of
/// `pipescope compare` (`Default` only names the columns of an empty result).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CompareRow {
    /// The test being explained.
    pub test: String,
    /// The span name the row is about (the test span's name for `self_duration` and for
    /// attributes of the test span itself).
    pub span: String,
    /// Passing executions in which the span occurs.
    pub pass_count: u64,
    /// Failing executions in which the span occurs.
    pub fail_count: u64,
    /// Median total duration of the span per passing execution (occurrences summed);
    /// null when it never occurs on that side.
    pub pass_p50_ms: Option<f64>,
    pub fail_p50_ms: Option<f64>,
    pub pass_mean_ms: Option<f64>,
    pub fail_mean_ms: Option<f64>,
    /// `fail_p50_ms - pass_p50_ms`.
    pub delta_ms: Option<f64>,
    /// Share of passing executions in which the span errored.
    pub pass_error_rate: f64,
    /// Share of failing executions in which the span errored.
    pub fail_error_rate: f64,
    pub signal: Signal,
    /// One human sentence with the evidence, e.g.
    /// `db.connect p50 2150 ms when failing vs 210 ms when passing (10.2x)`.
    pub detail: String,
    /// Two-sided p-value of the row's test: the probability of a difference at least this
    /// large between failing and passing executions if the span behaved the same in both
    /// (Mann-Whitney U for durations, Fisher's exact test for counts). Small means the
    /// difference is unlikely to be chance. It is not corrected for the number of rows
    /// tested: read it as a ranking score and treat values above ~0.01 with suspicion
    /// when there are many spans.
    pub p_value: f64,
    /// Effect size in [0, 1]: for durations the magnitude of the rank-biserial
    /// correlation (1 = every failing value beyond every passing one), for counts the
    /// difference in rates between the sides.
    pub effect: f64,
}

/// Options of [`compare_with`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// Keep every row, even those with no evidence at all.
    pub all: bool,
    /// Rows with a larger p-value are dropped unless `all` is set.
    pub max_p_value: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            all: false,
            max_p_value: 0.5,
        }
    }
}

/// Compares the passing and failing `executions` of `test` with default options:
/// ranked rows, most likely cause first, rows with `p_value > 0.5` dropped.
pub fn compare(test: &str, executions: &[Execution]) -> Vec<CompareRow> {
    compare_with(test, executions, &CompareOptions::default())
}

/// [`compare`] with explicit options.
pub fn compare_with(
    test: &str,
    executions: &[Execution],
    options: &CompareOptions,
) -> Vec<CompareRow> {
    let agg = aggregate::aggregate(executions);
    let mut found = signals::candidates(test, &agg);
    // Ranking: the first row should be the cause.
    // 1. Evidence first: p-value ascending. It is quantised (six digits of -ln p) so that
    //    rows backed by the same counts tie exactly despite float noise while the order
    //    stays total.
    // 2. Then the larger effect: a 10x slowdown over a 1.2x one, 9/9 over 5/9.
    // 3. Then specificity: an error origin over the ancestors that merely propagate its
    //    error, then the deeper span (the child explains its parent, not the reverse).
    // 4. Then a fixed signal order: direct evidence (error, attribute, duration) over
    //    presence, since a span missing from failing runs is usually a consequence of the
    //    failure (the test stopped early) rather than its cause.
    // 5. Finally names, so equal rows come out in a stable order.
    found.sort_by_cached_key(|c| {
        (
            quantise(-c.row.p_value.max(f64::MIN_POSITIVE).ln()),
            quantise(c.row.effect),
            Reverse(c.origin),
            Reverse(c.depth),
            signal_rank(c.row.signal),
            c.row.span.clone(),
            c.row.detail.clone(),
        )
    });
    found
        .into_iter()
        .map(|c| c.row)
        .filter(|r| options.all || r.p_value <= options.max_p_value)
        .collect()
}

/// Orders a non-negative score descending as an integer key (six decimals).
fn quantise(x: f64) -> Reverse<i64> {
    if x.is_nan() {
        return Reverse(i64::MIN);
    }
    Reverse((x * 1e6).round() as i64)
}

fn signal_rank(s: Signal) -> u8 {
    match s {
        Signal::Error => 0,
        Signal::Attribute => 1,
        Signal::Duration => 2,
        Signal::SelfDuration => 3,
        Signal::Extra => 4,
        Signal::Missing => 5,
    }
}

/// Comparison rows for one test, most likely cause first.
pub async fn compare_test(engine: &Engine, test: &str) -> Result<Vec<CompareRow>, QueryError> {
    // One trace at a time: only its executions of the test are kept.
    let executions = load::fold_test_traces(engine, test, Vec::new, |executions, trace| {
        let tree = &trace.tree;
        for index in 0..tree.len() {
            let span = tree.span(index);
            let is_execution = span.role.as_deref() == Some("test")
                && span.test.as_deref() == Some(test)
                && matches!(span.outcome.as_deref(), Some("pass" | "fail" | "error"));
            if is_execution {
                executions.extend(executions_from_tree(tree, index));
            }
        }
    })
    .await?;
    Ok(compare(test, &executions))
}

/// A row of `queries/test_ids.sql`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct TestIdRow {
    test_id: String,
    exact: bool,
}

/// The test_id a name typed by the user means: itself when it is one, else the one test
/// emitted under that name or ending in it.
async fn resolve_test(engine: &Engine, name: &str) -> Result<String, CompareError> {
    let params = vec![("name", ScalarValue::from(name))];
    let result = engine.run(NamedQuery::TestIds, params).await?;
    let rows: Vec<TestIdRow> = records("test_ids", &result)?;
    if rows.iter().any(|r| r.exact) || rows.is_empty() {
        // Unknown names fall through to the "no executions" error of `explain`.
        return Ok(name.to_string());
    }
    match <[TestIdRow; 1]>::try_from(rows) {
        Ok([row]) => Ok(row.test_id),
        Err(rows) => Err(CompareError::Ambiguous {
            name: name.to_string(),
            candidates: rows.into_iter().map(|r| r.test_id).collect(),
        }),
    }
}

/// The tests [`explain`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tests<'a> {
    /// One test by its test_id, by the name an emitter gave it, or by the last part
    /// of its test_id when that names one test only; finding nothing is an error.
    Named(&'a str),
    /// Every flaky test, in the order of [`flaky::rows`](super::flaky::rows).
    Flaky,
}

/// Errors of [`explain`].
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The named test gave no rows: no test has that name or id, or it has no
    /// passing or failing executions.
    #[error(
        "no passing or failing executions of test '{0}' in the store (`pipescope flaky --all` lists the tests)"
    )]
    NoExecutions(String),
    /// The name fits several tests (the same function in different files or classes).
    #[error("'{name}' names {} tests; give one of them: {}", candidates.len(), candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// The `limit` most likely causes of each test's failures, test after test: the rows
/// of `pipescope compare`.
pub async fn explain(
    engine: &Engine,
    tests: Tests<'_>,
    limit: usize,
) -> Result<Vec<CompareRow>, CompareError> {
    let names: Vec<String> = match tests {
        Tests::Named(name) => vec![resolve_test(engine, name).await?],
        Tests::Flaky => super::flaky::rows(engine, false)
            .await?
            .into_iter()
            .map(|row| row.test)
            .collect(),
    };
    let mut all = Vec::new();
    for test in names {
        let mut rows = compare_test(engine, &test).await?;
        if rows.is_empty() && matches!(tests, Tests::Named(_)) {
            return Err(CompareError::NoExecutions(test));
        }
        rows.truncate(limit);
        all.extend(rows);
    }
    Ok(all)
}
